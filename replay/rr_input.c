/*
 * rr_input.c - rr_input, the one gate through which host values reach a
 * recorded or replayed machine (see rr_int.h).
 *
 * A point is (board_steps, board_vtime): the board asks for input only at
 * round boundaries and idle points, where both depend on guest state and
 * earlier input alone. Several inputs may share a point; the log keeps
 * their order, and values equal to the replay default are not logged.
 */
#include <stdio.h>
#include <stdlib.h>

#include "rr_int.h"

static bool before(uint64_t s1, uint64_t v1, uint64_t s2, uint64_t v2)
{
    return s1 < s2 || (s1 == s2 && v1 < v2);
}

static void diverge(rr_io *io, const rr_input_ent *e, uint64_t steps, uint64_t vtime)
{
    if (io->diverged) return;
    io->diverged = true;
    snprintf(io->why, sizeof(io->why),
             "input #%zu (%s %#llx) recorded at i:%llu (%llu ns) was not asked for: the replay "
             "went on to i:%llu (%llu ns)",
             io->next, rr_source_name(e->src), (unsigned long long)e->value,
             (unsigned long long)e->steps, (unsigned long long)e->vtime, (unsigned long long)steps,
             (unsigned long long)vtime);
    board_request_stop(io->b);
}

static uint64_t logged_value(const rr_io *io, const rr_input_ent *e)
{
    if (io->perturb_on && io->next == io->perturb && e->src == RR_SRC_UART_RX) return e->value ^ 1;
    return e->value;
}

uint64_t rr_input_peek(const rr_io *io, rr_source src, uint64_t def)
{
    if (io->next >= io->n || io->diverged) return def;
    const rr_input_ent *e = &io->log[io->next];
    if (e->steps == board_steps(io->b) && e->vtime == board_vtime(io->b) && e->src == src)
        return logged_value(io, e);
    return def;
}

uint64_t rr_input(rr_io *io, rr_source src, uint64_t live, uint64_t def)
{
    uint64_t steps = board_steps(io->b), vtime = board_vtime(io->b);
    if (!io->replay) {
        if (live == def || io->err) return live;
        if (io->npend == io->cappend) {
            size_t cap = io->cappend ? 2 * io->cappend : 256;
            rr_input_ent *n = realloc(io->pend, cap * sizeof(*n));
            if (!n) {
                io->err = MC_ENOMEM;
                board_request_stop(io->b);
                return live;
            }
            io->pend = n;
            io->cappend = cap;
        }
        io->pend[io->npend++] =
            (rr_input_ent){steps, vtime, board_current_hart(io->b), src, live};
        io->nlogged++;
        return live;
    }
    if (io->next >= io->n || io->diverged) return def;
    const rr_input_ent *e = &io->log[io->next];
    if (e->steps == steps && e->vtime == vtime && e->src == src) {
        uint64_t v = logged_value(io, e);
        io->next++;
        return v;
    }
    if (before(e->steps, e->vtime, steps, vtime)) diverge(io, e, steps, vtime);
    return def;
}

bool rr_input_overdue(rr_io *io, uint64_t steps, uint64_t vtime)
{
    if (io->next >= io->n || io->diverged) return io->diverged;
    const rr_input_ent *e = &io->log[io->next];
    if (before(e->steps, e->vtime, steps, vtime)) diverge(io, e, steps, vtime);
    return io->diverged;
}

bool rr_input_pending_at(const rr_io *io, uint64_t steps, uint64_t vtime)
{
    return io->next < io->n && io->log[io->next].steps == steps && io->log[io->next].vtime == vtime;
}
