/*
 * err.h - the project-wide error codes.
 *
 * Every fallible function in machina returns an int: 0 (MC_OK) on success,
 * a negative MC_E* code on failure. mc_strerror() gives the message.
 * Guest faults are machine state, never one of these codes.
 */
#ifndef MACHINA_ERR_H
#define MACHINA_ERR_H

#define MC_MUST_CHECK __attribute__((warn_unused_result))

enum mc_err {
    MC_OK = 0,
    MC_ENOMEM = -1,   /* host allocation failed */
    MC_EINVAL = -2,   /* bad argument or option */
    MC_EIO = -3,      /* host file could not be read or written */
    MC_EFORMAT = -4,  /* malformed input file (ELF, image, DTB, ...) */
    MC_ECORRUPT = -5, /* recording or cache is corrupt */
    MC_EVERSION = -6, /* unsupported format version */
    MC_ERANGE = -7,   /* address or value out of range */
    MC_ENOENT = -8,   /* no such symbol, type, file or entry */
    MC_EBUSFAULT = -9, /* physical access to nothing */
    MC_ESTATE = -10,  /* operation not valid in the current state */
    MC_EGUEST = -11,  /* guest data failed a consistency check */
    MC_EUNSUP = -12,  /* feature not supported */
    MC_EDB = -13,     /* SQLite error */
    MC_EDIVERGE = -14, /* replay diverged from the recording */
};

/* Returns a static, human-readable message for an MC_E* code. */
const char *mc_strerror(int err);

#endif
