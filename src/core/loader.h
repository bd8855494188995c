/*
 * loader.h - putting guest images into RAM: raw binaries, RISC-V ELF files
 * (through libelf) and whole host files read into memory.
 *
 * Images are untrusted input: every header, segment and symbol table is
 * bounds-checked against the buffer and every destination against RAM.
 * A bad image gives MC_EFORMAT (malformed) or MC_ERANGE (does not fit in
 * RAM) and, when the caller passes an error buffer, a one-line reason;
 * nothing is written to RAM unless the whole image was validated first.
 * The loader never writes host files and never reads the host clock.
 */
#ifndef MACHINA_LOADER_H
#define MACHINA_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "err.h"

/* Size of an error-reason buffer that always holds the whole message. */
#define LOADER_ERRLEN 160

/* What a load put where. */
typedef struct loader_info {
    bool is_elf;
    uint64_t entry;     /* ELF e_entry; the load address for a raw image */
    uint64_t low, high; /* physical extent loaded: [low, high) */
    bool has_tohost;    /* the ELF defines the symbol `tohost` */
    uint64_t tohost;    /* its value (a physical address for bare-metal) */
} loader_info;

/* Reads the whole host file path into a new malloc'd buffer (*data, which
 * the caller frees; an empty file gives a 1-byte buffer and *size 0).
 * MC_EIO with errno set when the file cannot be opened or read. */
MC_MUST_CHECK int loader_read_file(const char *path, uint8_t **data, size_t *size);

/* True when data starts with the ELF magic. */
bool loader_is_elf(const uint8_t *data, size_t size);

/* Copies data[0..size) to RAM at pa; MC_ERANGE when that is not RAM. */
MC_MUST_CHECK int loader_load_raw(bus_t *bus, uint64_t pa, const uint8_t *data, size_t size,
                                  loader_info *info, char *err, size_t errlen);

/* Loads a 64-bit little-endian RISC-V ELF: each PT_LOAD segment at its
 * physical address (p_paddr, as QEMU does), bss zeroed. Fills info (entry,
 * extent, tohost). MC_EFORMAT for a malformed ELF, MC_ERANGE when a segment
 * falls outside RAM. */
MC_MUST_CHECK int loader_load_elf(bus_t *bus, const uint8_t *data, size_t size, loader_info *info,
                                  char *err, size_t errlen);

/* ELF when the magic says so, else raw at raw_pa. */
MC_MUST_CHECK int loader_load(bus_t *bus, uint64_t raw_pa, const uint8_t *data, size_t size,
                              loader_info *info, char *err, size_t errlen);

/* Looks up a symbol of an ELF image by name (the first match in .symtab,
 * then .dynsym): MC_ENOENT when absent, MC_EFORMAT when not a valid ELF. */
MC_MUST_CHECK int loader_elf_symbol(const uint8_t *data, size_t size, const char *name,
                                    uint64_t *value);

#endif
