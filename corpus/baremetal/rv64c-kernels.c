/*
 * rv64c-kernels.c - small C kernels for rv64c.S, compiled with
 * -march=rv64gc -O2 so that most of their code is compressed (c.addi, c.lw,
 * c.ld, c.sdsp, c.bnez, c.jr, ...).  rv64c.S calls them and checks results
 * computed offline.  Freestanding: no libc, nothing gcc could turn into a
 * library call.
 */
#include <stdint.h>

uint64_t c_fib(uint64_t n);
uint64_t c_sum_words(const int32_t *v, long n);
uint64_t c_sort_check(int64_t *v, long n);
double c_poly(const double *coef, long n, double x);

/* Naive recursive Fibonacci: calls, stack frames, c.sdsp/c.ldsp. */
uint64_t c_fib(uint64_t n)
{
    return n < 2 ? n : c_fib(n - 1) + c_fib(n - 2);
}

/* Sum of sign-extended words with a rotate-xor mix: c.lw, shifts, c.addw. */
uint64_t c_sum_words(const int32_t *v, long n)
{
    uint64_t h = 0;
    for (long i = 0; i < n; i++) {
        h += (uint64_t)(int64_t)v[i];
        h = (h << 7) | (h >> 57);
        h ^= (uint32_t)v[i] * 3u;
    }
    return h;
}

/* Insertion sort, then a position-weighted checksum of the result. */
uint64_t c_sort_check(int64_t *v, long n)
{
    for (long i = 1; i < n; i++) {
        int64_t x = v[i];
        long j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
    uint64_t h = 0;
    for (long i = 0; i < n; i++)
        h = h * 31 + (uint64_t)v[i] * (uint64_t)(i + 1);
    return h;
}

/* Horner evaluation: c.fld, fmadd. */
double c_poly(const double *coef, long n, double x)
{
    double r = 0.0;
    for (long i = n - 1; i >= 0; i--)
        r = r * x + coef[i];
    return r;
}
