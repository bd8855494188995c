/*
 * fpu.h - IEEE 754 binary32/binary64 arithmetic as RISC-V F and D define it.
 *
 * Pure functions on raw bit patterns: no hart state. rm is a static
 * rounding mode 0..4 (RNE, RTZ, RDN, RUP, RMM); the hart resolves the
 * dynamic mode and rejects 5, 6 and 7 itself. Exception flags are ORed into
 * *fflags with the fcsr bit layout (NV 16, DZ 8, OF 4, UF 2, NX 1).
 * Results are bit-exact with the RISC-V spec: NaN results are the canonical
 * NaN (0x7fc00000 / 0x7ff8000000000000), tininess is detected after
 * rounding, fmin/fmax follow the 2.2 spec (minimumNumber; -0 < +0), and
 * float-to-integer conversions saturate as the spec's table says.
 * NaN-boxing of 32-bit values in 64-bit registers is the hart's job.
 * Results never depend on the host's floating-point environment.
 */
#ifndef MACHINA_FPU_H
#define MACHINA_FPU_H

#include <stdint.h>

#define FPU_RNE 0
#define FPU_RTZ 1
#define FPU_RDN 2
#define FPU_RUP 3
#define FPU_RMM 4

#define FPU_NX 0x01
#define FPU_UF 0x02
#define FPU_OF 0x04
#define FPU_DZ 0x08
#define FPU_NV 0x10

/* op selects the fused form: result = (-1)^negprod * (a*b) + (-1)^negadd * c */
#define FPU_FMA_NEGPROD 1
#define FPU_FMA_NEGADD 2

uint32_t fpu_add32(uint32_t a, uint32_t b, unsigned rm, unsigned *fflags);
uint32_t fpu_sub32(uint32_t a, uint32_t b, unsigned rm, unsigned *fflags);
uint32_t fpu_mul32(uint32_t a, uint32_t b, unsigned rm, unsigned *fflags);
uint32_t fpu_div32(uint32_t a, uint32_t b, unsigned rm, unsigned *fflags);
uint32_t fpu_sqrt32(uint32_t a, unsigned rm, unsigned *fflags);
uint32_t fpu_fma32(uint32_t a, uint32_t b, uint32_t c, unsigned op, unsigned rm, unsigned *fflags);
uint32_t fpu_min32(uint32_t a, uint32_t b, unsigned *fflags);
uint32_t fpu_max32(uint32_t a, uint32_t b, unsigned *fflags);
/* Comparisons return 0 or 1; eq is quiet (NV only on sNaN), lt/le signal. */
int fpu_eq32(uint32_t a, uint32_t b, unsigned *fflags);
int fpu_lt32(uint32_t a, uint32_t b, unsigned *fflags);
int fpu_le32(uint32_t a, uint32_t b, unsigned *fflags);
/* fclass.s result: one bit of the 10 the spec lists. */
unsigned fpu_class32(uint32_t a);

uint64_t fpu_add64(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags);
uint64_t fpu_sub64(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags);
uint64_t fpu_mul64(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags);
uint64_t fpu_div64(uint64_t a, uint64_t b, unsigned rm, unsigned *fflags);
uint64_t fpu_sqrt64(uint64_t a, unsigned rm, unsigned *fflags);
uint64_t fpu_fma64(uint64_t a, uint64_t b, uint64_t c, unsigned op, unsigned rm, unsigned *fflags);
uint64_t fpu_min64(uint64_t a, uint64_t b, unsigned *fflags);
uint64_t fpu_max64(uint64_t a, uint64_t b, unsigned *fflags);
int fpu_eq64(uint64_t a, uint64_t b, unsigned *fflags);
int fpu_lt64(uint64_t a, uint64_t b, unsigned *fflags);
int fpu_le64(uint64_t a, uint64_t b, unsigned *fflags);
unsigned fpu_class64(uint64_t a);

/* Conversions between formats. */
uint64_t fpu_f32_to_f64(uint32_t a, unsigned *fflags);
uint32_t fpu_f64_to_f32(uint64_t a, unsigned rm, unsigned *fflags);

/* Float to integer, saturating as the spec says (NaN gives the maximum);
 * 32-bit results are returned sign-extended to 64 bits as fcvt.w[u] writes them. */
int64_t fpu_f32_to_i32(uint32_t a, unsigned rm, unsigned *fflags);
int64_t fpu_f32_to_u32(uint32_t a, unsigned rm, unsigned *fflags);
int64_t fpu_f32_to_i64(uint32_t a, unsigned rm, unsigned *fflags);
uint64_t fpu_f32_to_u64(uint32_t a, unsigned rm, unsigned *fflags);
int64_t fpu_f64_to_i32(uint64_t a, unsigned rm, unsigned *fflags);
int64_t fpu_f64_to_u32(uint64_t a, unsigned rm, unsigned *fflags);
int64_t fpu_f64_to_i64(uint64_t a, unsigned rm, unsigned *fflags);
uint64_t fpu_f64_to_u64(uint64_t a, unsigned rm, unsigned *fflags);

/* Integer to float. */
uint32_t fpu_i32_to_f32(int32_t a, unsigned rm, unsigned *fflags);
uint32_t fpu_u32_to_f32(uint32_t a, unsigned rm, unsigned *fflags);
uint32_t fpu_i64_to_f32(int64_t a, unsigned rm, unsigned *fflags);
uint32_t fpu_u64_to_f32(uint64_t a, unsigned rm, unsigned *fflags);
uint64_t fpu_i32_to_f64(int32_t a, unsigned rm, unsigned *fflags);
uint64_t fpu_u32_to_f64(uint32_t a, unsigned rm, unsigned *fflags);
uint64_t fpu_i64_to_f64(int64_t a, unsigned rm, unsigned *fflags);
uint64_t fpu_u64_to_f64(uint64_t a, unsigned rm, unsigned *fflags);

#endif
