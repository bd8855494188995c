/*
 * db_query.c - the read-only query runner behind `machina-replay RUN.mrr
 * sql`: opens the recording with SQLITE_OPEN_READONLY (and query_only),
 * runs exactly one statement and prints its rows as an aligned table for
 * people, as CSV (RFC 4180 quoting) or as a JSON array of objects
 * (jansson). Blobs print as their size in the table and CSV, hex in JSON.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

static char *cell_text(sqlite3_stmt *s, int i)
{
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_NULL: return strdup("");
    case SQLITE_BLOB: {
        char buf[48];
        snprintf(buf, sizeof(buf), "<blob %d bytes>", sqlite3_column_bytes(s, i));
        return strdup(buf);
    }
    default: return strdup((const char *)sqlite3_column_text(s, i));
    }
}

static void csv_cell(FILE *out, const char *t)
{
    if (!strpbrk(t, ",\"\r\n")) {
        fputs(t, out);
        return;
    }
    fputc('"', out);
    for (; *t; t++) {
        if (*t == '"') fputc('"', out);
        fputc(*t, out);
    }
    fputc('"', out);
}

static json_t *json_cell(sqlite3_stmt *s, int i)
{
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_NULL: return json_null();
    case SQLITE_INTEGER: return json_integer((json_int_t)sqlite3_column_int64(s, i));
    case SQLITE_FLOAT: return json_real(sqlite3_column_double(s, i));
    case SQLITE_BLOB: {
        int n = sqlite3_column_bytes(s, i);
        const unsigned char *b = sqlite3_column_blob(s, i);
        char *h = malloc((size_t)n * 2 + 1);
        if (!h) return json_null();
        for (int k = 0; k < n; k++)
            snprintf(h + 2 * k, 3, "%02x", b[k]);
        h[2 * n] = 0;
        json_t *j = json_string(h);
        free(h);
        return j;
    }
    default: {
        json_t *j = json_string((const char *)sqlite3_column_text(s, i));
        return j ? j : json_null(); /* not UTF-8 */
    }
    }
}

int db_query(const char *path, const char *sql, db_format fmt, FILE *out, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int rc = MC_EDB, ncol, r;
    char **cells = NULL;
    size_t nrow = 0, cap = 0;
    json_t *arr = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        db_fail(db, err, errlen, path);
        goto done;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_exec(db, "PRAGMA query_only=1", NULL, NULL, NULL);
    const char *tail = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, &tail) != SQLITE_OK) {
        db_fail(db, err, errlen, "SQL");
        goto done;
    }
    if (!s) {
        snprintf(err, errlen, "SQL: empty statement");
        rc = MC_EINVAL;
        goto done;
    }
    while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == ';'))
        tail++;
    if (tail && *tail) {
        snprintf(err, errlen, "SQL: one statement only (extra text: %.40s)", tail);
        rc = MC_EINVAL;
        goto done;
    }
    ncol = sqlite3_column_count(s);
    if (fmt == DB_JSON) arr = json_array();
    if (fmt == DB_CSV) {
        for (int i = 0; i < ncol; i++) {
            if (i) fputc(',', out);
            csv_cell(out, sqlite3_column_name(s, i));
        }
        fputc('\n', out);
    }
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (fmt == DB_JSON) {
            json_t *o = json_object();
            for (int i = 0; i < ncol; i++)
                json_object_set_new(o, sqlite3_column_name(s, i), json_cell(s, i));
            json_array_append_new(arr, o);
        } else if (fmt == DB_CSV) {
            for (int i = 0; i < ncol; i++) {
                char *t = cell_text(s, i);
                if (i) fputc(',', out);
                csv_cell(out, t ? t : "");
                free(t);
            }
            fputc('\n', out);
        } else {
            if ((nrow + 1) * (size_t)ncol > cap) {
                cap = cap ? cap * 2 : (size_t)ncol * 64;
                char **n = realloc(cells, cap * sizeof(char *));
                if (!n) {
                    rc = MC_ENOMEM;
                    goto done;
                }
                cells = n;
            }
            for (int i = 0; i < ncol; i++)
                cells[nrow * (size_t)ncol + (size_t)i] = cell_text(s, i);
            nrow++;
        }
    }
    if (r != SQLITE_DONE) {
        db_fail(db, err, errlen, "SQL");
        goto done;
    }
    if (fmt == DB_JSON) {
        char *t = json_dumps(arr, JSON_INDENT(2));
        if (t) fprintf(out, "%s\n", t);
        free(t);
    } else if (fmt == DB_TABLE && ncol > 0) {
        size_t *wd = calloc((size_t)ncol, sizeof(size_t));
        if (!wd) {
            rc = MC_ENOMEM;
            goto done;
        }
        for (int i = 0; i < ncol; i++) {
            wd[i] = strlen(sqlite3_column_name(s, i));
            for (size_t k = 0; k < nrow; k++) {
                const char *c = cells[k * (size_t)ncol + (size_t)i];
                size_t l = c ? strlen(c) : 0;
                if (l > wd[i]) wd[i] = l;
            }
        }
        for (int i = 0; i < ncol; i++)
            fprintf(out, "%s%-*s", i ? "  " : "", (int)wd[i], sqlite3_column_name(s, i));
        fputc('\n', out);
        for (int i = 0; i < ncol; i++) {
            fprintf(out, "%s", i ? "  " : "");
            for (size_t k = 0; k < wd[i]; k++)
                fputc('-', out);
        }
        fputc('\n', out);
        for (size_t k = 0; k < nrow; k++) {
            for (int i = 0; i < ncol; i++) {
                const char *c = cells[k * (size_t)ncol + (size_t)i];
                int t = sqlite3_column_type(s, i);
                (void)t;
                fprintf(out, "%s%-*s", i ? "  " : "", (int)wd[i], c ? c : "");
            }
            fputc('\n', out);
        }
        fprintf(out, "(%zu row%s)\n", nrow, nrow == 1 ? "" : "s");
        free(wd);
    }
    rc = MC_OK;
done:
    if (cells) {
        for (size_t k = 0; k < nrow * (size_t)(s ? sqlite3_column_count(s) : 0); k++)
            free(cells[k]);
        free(cells);
    }
    json_decref(arr);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc;
}
