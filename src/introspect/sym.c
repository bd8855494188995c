/*
 * sym.c - kernel symbols from an ELF .symtab (libelf) or a System.map.
 *
 * Invariants: syms[] is sorted by (address, preference) where preference
 * puts global function/object symbols first among equal addresses; byname[]
 * indexes syms[] sorted by (name, preference). Names live in one pool owned
 * by the table. Every offset and size read from the file is checked against
 * the file size before libelf is asked for the bytes, so truncated or
 * garbage input gives MC_EFORMAT, never a crash.
 */
#define _GNU_SOURCE
#include "sym.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LOADS 16

struct sym_table {
    sym_info *syms; /* address order */
    uint32_t *byname;
    size_t n;
    char *pool;
    uint64_t end; /* highest symbol address + size, bounds addr2name */
    char build_id[130];
    char err[512];
    int fd; /* ELF kept open for sym_read_image; -1 otherwise */
    uint64_t fsize;
    struct {
        uint64_t va, off, filesz, memsz;
    } load[MAX_LOADS];
    int nload;
};

static int fail(sym_table *t, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof(t->err), fmt, ap);
    va_end(ap);
    return rc;
}

static bool is_abs(const sym_info *s)
{
    return s->type == 'A' || s->type == 'a';
}

static int pref(const sym_info *s)
{
    int p = s->kind == SYM_OTHER ? 2 : 0;
    return p + (s->global ? 0 : 1);
}

static int cmp_addr(const void *a, const void *b)
{
    const sym_info *x = a, *y = b;
    if (x->addr != y->addr) return x->addr < y->addr ? -1 : 1;
    int d = pref(x) - pref(y);
    return d ? d : strcmp(x->name, y->name);
}

static int cmp_name(const void *a, const void *b, void *ctx)
{
    const sym_info *syms = ctx;
    const sym_info *x = &syms[*(const uint32_t *)a], *y = &syms[*(const uint32_t *)b];
    int d = strcmp(x->name, y->name);
    if (d) return d;
    return pref(x) - pref(y);
}

/* Names the kernel's own mksysmap drops: mapping symbols, local labels. */
static bool skip_name(const char *name)
{
    if (!*name || strchr(name, '$')) return true;
    if (!strncmp(name, ".L", 2) || !strncmp(name, "__efistub_.L", 12)) return true;
    return false;
}

static int finish_table(sym_table *t)
{
    qsort(t->syms, t->n, sizeof(*t->syms), cmp_addr);
    t->byname = malloc((t->n ? t->n : 1) * sizeof(*t->byname));
    if (!t->byname) return fail(t, MC_ENOMEM, "out of memory");
    for (size_t i = 0; i < t->n; i++) {
        t->byname[i] = (uint32_t)i;
        uint64_t e = t->syms[i].addr + (t->syms[i].size ? t->syms[i].size : 1);
        if (!is_abs(&t->syms[i]) && e > t->end) t->end = e;
    }
    qsort_r(t->byname, t->n, sizeof(*t->byname), cmp_name, t->syms);
    return 0;
}

/* ---- ELF --------------------------------------------------------------- */

static char nm_letter(const GElf_Sym *s, const GElf_Shdr *sec)
{
    int bind = GELF_ST_BIND(s->st_info);
    char c;
    if (bind == STB_WEAK) return GELF_ST_TYPE(s->st_info) == STT_OBJECT ? 'V' : 'W';
    if (s->st_shndx == SHN_ABS)
        c = 'A';
    else if (!sec)
        c = '?';
    else if (sec->sh_flags & SHF_EXECINSTR)
        c = 'T';
    else if (sec->sh_type == SHT_NOBITS)
        c = 'B';
    else if (sec->sh_flags & SHF_WRITE)
        c = 'D';
    else
        c = 'R';
    if (bind == STB_LOCAL && c != '?') c = (char)(c - 'A' + 'a');
    return c;
}

/* Checks that a section's bytes lie inside the file before libelf reads. */
static int check_section(sym_table *t, const GElf_Shdr *sh, const char *what)
{
    if (sh->sh_type == SHT_NOBITS) return 0;
    if (sh->sh_offset > t->fsize || sh->sh_size > t->fsize - sh->sh_offset)
        return fail(t, MC_EFORMAT,
                    "%s at file offset %#llx size %#llx extends past the end of the file "
                    "(%llu bytes): truncated?",
                    what, (unsigned long long)sh->sh_offset, (unsigned long long)sh->sh_size,
                    (unsigned long long)t->fsize);
    return 0;
}

static void parse_note(const uint8_t *p, size_t len, char *hex, size_t hexlen)
{
    size_t o = 0;
    while (o + 12 <= len) {
        uint32_t nsz, dsz, type;
        memcpy(&nsz, p + o, 4);
        memcpy(&dsz, p + o + 4, 4);
        memcpy(&type, p + o + 8, 4);
        size_t name_off = o + 12, desc_off = name_off + ((nsz + 3ull) & ~3ull);
        if (desc_off > len || dsz > len - desc_off) return;
        if (type == 3 /* NT_GNU_BUILD_ID */ && nsz == 4 && !memcmp(p + name_off, "GNU", 4) &&
            dsz > 0 && dsz * 2 + 1 <= hexlen) {
            for (uint32_t i = 0; i < dsz; i++)
                snprintf(hex + 2 * i, 3, "%02x", p[desc_off + i]);
            return;
        }
        o = desc_off + ((dsz + 3ull) & ~3ull);
    }
}

/* Walks the sections of an open ELF: build-id notes, the symbol table. */
static int load_elf(sym_table *t, Elf *elf, bool want_syms)
{
    size_t shstrndx, nsec;
    if (gelf_getclass(elf) != ELFCLASS64)
        return fail(t, MC_EFORMAT, "not a 64-bit ELF (riscv64 vmlinux expected)");
    GElf_Ehdr eh;
    if (!gelf_getehdr(elf, &eh)) return fail(t, MC_EFORMAT, "bad ELF header: %s", elf_errmsg(-1));
    if (eh.e_shoff > t->fsize || (uint64_t)eh.e_shnum * eh.e_shentsize > t->fsize - eh.e_shoff)
        return fail(t, MC_EFORMAT,
                    "section header table at offset %#llx lies past the end of the file "
                    "(%llu bytes): truncated?",
                    (unsigned long long)eh.e_shoff, (unsigned long long)t->fsize);
    if (eh.e_phoff > t->fsize || (uint64_t)eh.e_phnum * eh.e_phentsize > t->fsize - eh.e_phoff)
        return fail(t, MC_EFORMAT, "program header table lies past the end of the file");
    if (elf_getshdrnum(elf, &nsec) || elf_getshdrstrndx(elf, &shstrndx))
        return fail(t, MC_EFORMAT, "bad section headers: %s", elf_errmsg(-1));
    for (size_t i = 0; i < eh.e_phnum && t->nload < MAX_LOADS; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph))
            return fail(t, MC_EFORMAT, "bad program header %zu", i);
        if (ph.p_type != PT_LOAD) continue;
        if (ph.p_offset > t->fsize || ph.p_filesz > t->fsize - ph.p_offset ||
            ph.p_filesz > ph.p_memsz)
            return fail(t, MC_EFORMAT, "PT_LOAD %zu at offset %#llx size %#llx: past end of file",
                        i, (unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz);
        t->load[t->nload].va = ph.p_vaddr;
        t->load[t->nload].off = ph.p_offset;
        t->load[t->nload].filesz = ph.p_filesz;
        t->load[t->nload].memsz = ph.p_memsz;
        t->nload++;
    }
    Elf_Scn *symscn = NULL;
    GElf_Shdr symsh = {0};
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh)) return fail(t, MC_EFORMAT, "bad section header");
        if (sh.sh_type == SHT_NOTE && !t->build_id[0]) {
            int rc = check_section(t, &sh, "note section");
            if (rc) return rc;
            Elf_Data *d = elf_getdata(scn, NULL);
            if (d && d->d_buf) parse_note(d->d_buf, d->d_size, t->build_id, sizeof(t->build_id));
        } else if (sh.sh_type == SHT_SYMTAB) {
            symscn = scn;
            symsh = sh;
        }
    }
    if (!want_syms) return 0;
    if (!symscn)
        return fail(t, MC_ENOENT,
                    "no .symtab section: the vmlinux is stripped; use the unstripped vmlinux "
                    "from the kernel build tree (or its System.map)");
    int rc = check_section(t, &symsh, ".symtab");
    if (rc) return rc;
    if (symsh.sh_link >= nsec) return fail(t, MC_EFORMAT, ".symtab links to a bad string table");
    Elf_Scn *strscn = elf_getscn(elf, symsh.sh_link);
    GElf_Shdr strsh;
    if (!strscn || !gelf_getshdr(strscn, &strsh))
        return fail(t, MC_EFORMAT, ".symtab links to a bad string table");
    if ((rc = check_section(t, &strsh, ".strtab"))) return rc;
    Elf_Data *sd = elf_getdata(symscn, NULL), *nd = elf_getdata(strscn, NULL);
    if (!sd || !nd || !nd->d_buf || !nd->d_size)
        return fail(t, MC_EFORMAT, "cannot read .symtab: %s", elf_errmsg(-1));
    size_t nsym = symsh.sh_entsize ? symsh.sh_size / symsh.sh_entsize : 0;
    t->syms = calloc(nsym ? nsym : 1, sizeof(*t->syms));
    t->pool = malloc(nd->d_size + 1);
    if (!t->syms || !t->pool) return fail(t, MC_ENOMEM, "out of memory");
    memcpy(t->pool, nd->d_buf, nd->d_size);
    t->pool[nd->d_size] = 0;
    for (size_t i = 1; i < nsym; i++) {
        GElf_Sym s;
        if (!gelf_getsym(sd, (int)i, &s)) return fail(t, MC_EFORMAT, "bad symbol %zu", i);
        int type = GELF_ST_TYPE(s.st_info);
        if (s.st_shndx == SHN_UNDEF || type == STT_SECTION || type == STT_FILE) continue;
        if (s.st_name >= nd->d_size) return fail(t, MC_EFORMAT, "symbol %zu: name out of range", i);
        const char *name = t->pool + s.st_name;
        if (skip_name(name)) continue;
        GElf_Shdr secsh, *sec = NULL;
        Elf_Scn *sc = s.st_shndx < SHN_LORESERVE ? elf_getscn(elf, s.st_shndx) : NULL;
        if (sc && gelf_getshdr(sc, &secsh)) sec = &secsh;
        sym_info *o = &t->syms[t->n++];
        o->name = name;
        o->addr = s.st_value;
        o->size = s.st_size;
        o->type = nm_letter(&s, sec);
        o->kind = type == STT_FUNC ? SYM_FUNC : type == STT_OBJECT ? SYM_OBJECT : SYM_OTHER;
        o->global = GELF_ST_BIND(s.st_info) != STB_LOCAL;
    }
    if (!t->n) return fail(t, MC_ENOENT, ".symtab holds no symbols");
    return 0;
}

/* Opens path with libelf; *elf NULL when it is not an ELF. */
static int open_elf(sym_table *t, const char *path, int *fd, Elf **elf)
{
    struct stat st;
    *elf = NULL;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) return fail(t, MC_EIO, "cannot open %s: %s", path, strerror(errno));
    if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode))
        return fail(t, MC_EIO, "%s: not a regular file", path);
    t->fsize = (uint64_t)st.st_size;
    unsigned char magic[4] = {0};
    if (pread(*fd, magic, 4, 0) != 4 || memcmp(magic, ELFMAG, SELFMAG)) return 0;
    if (elf_version(EV_CURRENT) == EV_NONE) return fail(t, MC_EFORMAT, "libelf init failed");
    *elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
    if (!*elf || elf_kind(*elf) != ELF_K_ELF)
        return fail(t, MC_EFORMAT, "%s: bad ELF: %s", path, elf_errmsg(-1));
    return 0;
}

int sym_file_build_id(const char *path, char *hex, size_t hexlen)
{
    sym_table tmp;
    memset(&tmp, 0, sizeof(tmp));
    int fd, rc;
    Elf *elf;
    if (!hex || hexlen < 1) return MC_EINVAL;
    hex[0] = 0;
    if (!(rc = open_elf(&tmp, path, &fd, &elf))) {
        if (!elf)
            rc = MC_EFORMAT;
        else if (!(rc = load_elf(&tmp, elf, false)) && !tmp.build_id[0])
            rc = MC_ENOENT;
    }
    if (!rc) snprintf(hex, hexlen, "%s", tmp.build_id);
    if (elf) elf_end(elf);
    if (fd >= 0) close(fd);
    return rc;
}

/* ---- System.map -------------------------------------------------------- */

static int load_map(sym_table *t, int fd, const char *path)
{
    if (t->fsize == 0) return fail(t, MC_EFORMAT, "%s: empty file", path);
    if (t->fsize > (1u << 30)) return fail(t, MC_EFORMAT, "%s: too large for a System.map", path);
    t->pool = malloc(t->fsize + 1);
    if (!t->pool) return fail(t, MC_ENOMEM, "out of memory");
    if (pread(fd, t->pool, t->fsize, 0) != (ssize_t)t->fsize)
        return fail(t, MC_EIO, "%s: read failed", path);
    t->pool[t->fsize] = 0;
    size_t lines = 1;
    for (size_t i = 0; i < t->fsize; i++)
        lines += t->pool[i] == '\n';
    t->syms = calloc(lines, sizeof(*t->syms));
    if (!t->syms) return fail(t, MC_ENOMEM, "out of memory");
    char *p = t->pool;
    for (size_t ln = 1; *p; ln++) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        for (char *q = nl ? nl : p + strlen(p);
             q > p && (q[-1] == ' ' || q[-1] == '\r' || q[-1] == '\t');)
            *--q = 0;
        if (*p) {
            char *e;
            errno = 0;
            unsigned long long a = strtoull(p, &e, 16);
            if (e == p || errno || e[0] != ' ' || !e[1] || e[2] != ' ' || !e[3] ||
                strchr(e + 3, ' '))
                return fail(t, MC_EFORMAT,
                            "%s:%zu: neither an ELF file nor a System.map line "
                            "(\"ADDR TYPE NAME\" expected)",
                            path, ln);
            for (const char *c = e + 3; *c; c++)
                if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e)
                    return fail(t, MC_EFORMAT, "%s:%zu: bad character in symbol name", path, ln);
            char ty = e[1];
            if (!strchr("AaBbDdGgRrSsTtVvWwNnUu?", ty))
                return fail(t, MC_EFORMAT, "%s:%zu: unknown symbol type '%c'", path, ln, ty);
            if (ty != 'U' && ty != 'u' && !skip_name(e + 3)) {
                sym_info *o = &t->syms[t->n++];
                o->name = e + 3;
                o->addr = a;
                o->type = ty;
                o->global = ty >= 'A' && ty <= 'Z';
                char u = (char)(ty & ~0x20);
                o->kind = u == 'T' || u == 'W'   ? SYM_FUNC
                          : u == 'A' || u == 'N' ? SYM_OTHER
                                                 : SYM_OBJECT;
            }
        }
        if (!nl) break;
        p = nl + 1;
    }
    if (!t->n) return fail(t, MC_EFORMAT, "%s: no symbols", path);
    return 0;
}

/* ---- public ------------------------------------------------------------ */

int sym_open(sym_table **out, const char *path)
{
    sym_table *t = calloc(1, sizeof(*t));
    *out = t;
    if (!t) return MC_ENOMEM;
    t->fd = -1;
    int fd = -1, rc;
    Elf *elf = NULL;
    if (!path) return fail(t, MC_EINVAL, "no path");
    if ((rc = open_elf(t, path, &fd, &elf))) goto done;
    if (elf) {
        rc = load_elf(t, elf, true);
        if (rc && t->err[0] && strncmp(t->err, path, strlen(path))) {
            char tmp[sizeof(t->err)];
            memcpy(tmp, t->err, sizeof(tmp));
            snprintf(t->err, sizeof(t->err), "%.200s: %.300s", path, tmp);
        }
    } else {
        rc = load_map(t, fd, path);
        t->nload = 0;
    }
    if (!rc) rc = finish_table(t);
    if (!rc && elf) {
        t->fd = fd;
        fd = -1;
    }
done:
    if (elf) elf_end(elf);
    if (fd >= 0) close(fd);
    return rc;
}

void sym_free(sym_table *t)
{
    if (!t) return;
    if (t->fd >= 0) close(t->fd);
    free(t->syms);
    free(t->byname);
    free(t->pool);
    free(t);
}

const char *sym_last_error(const sym_table *t)
{
    return t ? t->err : "out of memory";
}

size_t sym_count(const sym_table *t)
{
    return t->n;
}

const sym_info *sym_at(const sym_table *t, size_t i)
{
    return i < t->n ? &t->syms[i] : NULL;
}

int sym_lookup(const sym_table *t, const char *name, sym_info *out)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(t->syms[t->byname[mid]].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == t->n || strcmp(t->syms[t->byname[lo]].name, name)) return MC_ENOENT;
    *out = t->syms[t->byname[lo]];
    return 0;
}

int sym_addr2name(const sym_table *t, uint64_t addr, sym_info *out, uint64_t *off)
{
    if (!t->n || addr < t->syms[0].addr || addr >= t->end) return MC_ENOENT;
    size_t lo = 0, hi = t->n; /* first symbol with address > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* the nearest preceding non-absolute symbol, preferred one at its address */
    size_t i = lo;
    do {
        if (i-- == 0) return MC_ENOENT;
    } while (is_abs(&t->syms[i]));
    while (i > 0 && t->syms[i - 1].addr == t->syms[i].addr && !is_abs(&t->syms[i - 1]))
        i--;
    *out = t->syms[i];
    if (off) *off = addr - t->syms[i].addr;
    return 0;
}

int sym_format(const sym_table *t, uint64_t addr, char *buf, size_t len)
{
    sym_info s;
    uint64_t off;
    int rc = sym_addr2name(t, addr, &s, &off);
    if (rc) return rc;
    if (off)
        snprintf(buf, len, "%s+%#llx", s.name, (unsigned long long)off);
    else
        snprintf(buf, len, "%s", s.name);
    return 0;
}

const char *sym_build_id(const sym_table *t)
{
    return t->build_id;
}

int sym_linux_banner(const sym_table *t, uint64_t *addr)
{
    sym_info s;
    int rc = sym_lookup(t, "linux_banner", &s);
    if (!rc) *addr = s.addr;
    return rc;
}

int sym_read_image(void *ctx, uint64_t va, void *buf, size_t len)
{
    const sym_table *t = ctx;
    uint8_t *b = buf;
    if (t->fd < 0) return MC_ESTATE;
    while (len) {
        int i;
        for (i = 0; i < t->nload; i++)
            if (va >= t->load[i].va && va - t->load[i].va < t->load[i].memsz) break;
        if (i == t->nload) return MC_ERANGE;
        uint64_t o = va - t->load[i].va;
        size_t n = t->load[i].memsz - o < len ? (size_t)(t->load[i].memsz - o) : len;
        if (o < t->load[i].filesz) {
            size_t f = t->load[i].filesz - o < n ? (size_t)(t->load[i].filesz - o) : n;
            if (pread(t->fd, b, f, (off_t)(t->load[i].off + o)) != (ssize_t)f) return MC_EIO;
            memset(b + f, 0, n - f);
        } else {
            memset(b, 0, n);
        }
        b += n;
        va += n;
        len -= n;
    }
    return 0;
}
