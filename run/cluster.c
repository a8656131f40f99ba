/* SPDX-License-Identifier: MIT */
/*
 * cluster.c - the ranks of an Open MPI job (jg_run_cluster_*), and the few
 * collective operations the run layer needs: fixed-order sums for data
 * parallelism, an agreement on errors, broadcasts and gathers of text, and
 * point-to-point messages for the tuning worker pool (run_internal.h).
 *
 * Built without MPI (CMake JG_MPI=OFF, or no Open MPI) every function works
 * for one rank and a process started by mpirun says "not built with MPI"
 * instead of running N copies that overwrite each other's files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef JG_HAVE_MPI
#include <mpi.h>
#endif

#include "run_internal.h"

static jg_run_cluster_t g_cl = {.rank = 0, .size = 1, .node = 0, .nodes = 1, .node_rank = 0,
                                .node_size = 1};
#ifdef JG_HAVE_MPI
static int g_mpi; /* MPI_Init was called */
#endif
/* A rank working alone inside a job (a reproduction's sub-run): it sees a
 * one-rank cluster and its collectives do nothing. */
static int g_solo;
static const jg_run_cluster_t g_one = {.rank = 0, .size = 1, .node = 0, .nodes = 1,
                                       .node_rank = 0, .node_size = 1};

void jg_cl_set_solo(int on)
{
    g_solo = on;
}

/* Ranks the launcher announced (Open MPI's mpirun, PMIx or PMI as with
 * Slurm's srun), or 0 when the process was not launched as part of a job. */
static int launched_ranks(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return atoi(v);
    }
    return getenv("PMIX_RANK") ? 2 : 0; /* PMIx without a size: a job all the same */
}

int jg_run_mpi_built(void)
{
#ifdef JG_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

#ifdef JG_HAVE_MPI
static MPI_Comm g_node = MPI_COMM_NULL;   /* the ranks of this node */
static MPI_Comm g_leaders = MPI_COMM_NULL; /* one rank per node (node_rank 0) */
static MPI_Op g_sum_f, g_sum_d;           /* fixed-order sums */

/* Non-commutative in MPI's sense, so Open MPI combines in rank order: the
 * same sum, bit for bit, on every rank and in every run of N ranks. */
static void sum_f(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const float *a = in;
    float *b = inout;
    for (int i = 0; i < *len; i++) b[i] = a[i] + b[i];
}

static void sum_d(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const double *a = in;
    double *b = inout;
    for (int i = 0; i < *len; i++) b[i] = a[i] + b[i];
}

/* Node index and count: the leaders number the nodes in rank order. */
static int find_nodes(void)
{
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_cl.rank, MPI_INFO_NULL,
                            &g_node) != MPI_SUCCESS)
        return -EIO;
    MPI_Comm_rank(g_node, &g_cl.node_rank);
    MPI_Comm_size(g_node, &g_cl.node_size);
    MPI_Comm_split(MPI_COMM_WORLD, g_cl.node_rank == 0 ? 0 : MPI_UNDEFINED, g_cl.rank,
                   &g_leaders);
    int node = 0, nodes = 0;
    if (g_leaders != MPI_COMM_NULL) {
        MPI_Comm_rank(g_leaders, &node);
        MPI_Comm_size(g_leaders, &nodes);
    }
    MPI_Bcast(&node, 1, MPI_INT, 0, g_node);
    MPI_Bcast(&nodes, 1, MPI_INT, 0, g_node);
    g_cl.node = node;
    g_cl.nodes = nodes;
    return 0;
}
#endif

int jg_run_cluster_init(int *argc, char ***argv, jg_run_error_t *err)
{
    gethostname(g_cl.host, sizeof g_cl.host - 1);
    const int ranks = launched_ranks();
    if (ranks <= 1) return 0;
#ifndef JG_HAVE_MPI
    (void)argc;
    (void)argv;
    return jg_run_fail(err, -ENOTSUP, "started as one of %d MPI ranks but not built with MPI "
                       "(install libopenmpi-dev and configure with -DJG_MPI=ON)", ranks);
#else
    int provided = 0;
    // Kernel threads are OpenMP's; only the main thread calls MPI.
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return jg_run_fail(err, -EIO, "MPI_Init_thread failed");
    g_mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_cl.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_cl.size);
    MPI_Op_create(sum_f, 0, &g_sum_f);
    MPI_Op_create(sum_d, 0, &g_sum_d);
    if (find_nodes()) return jg_run_fail(err, -EIO, "MPI: cannot find the ranks of each node");
    return 0;
#endif
}

void jg_run_cluster_finalize(void)
{
#ifdef JG_HAVE_MPI
    if (!g_mpi) return;
    MPI_Op_free(&g_sum_f);
    MPI_Op_free(&g_sum_d);
    if (g_leaders != MPI_COMM_NULL) MPI_Comm_free(&g_leaders);
    MPI_Comm_free(&g_node);
    MPI_Finalize();
    g_mpi = 0;
#endif
}

const jg_run_cluster_t *jg_run_cluster(void)
{
    return g_solo ? &g_one : &g_cl;
}

void jg_run_cluster_abort(int code)
{
#ifdef JG_HAVE_MPI
    if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    (void)code;
}

/* ---- collectives (run_internal.h) ---------------------------------------- */

int jg_cl_sum_f(void *ctx, float *buf, int64_t n)
{
    (void)ctx;
#ifdef JG_HAVE_MPI
    if (g_mpi && g_cl.size > 1 && !g_solo)
        // chunks below INT_MAX elements, each a fixed-order sum
        for (int64_t off = 0; off < n; off += 1 << 30) {
            const int k = (int)(n - off < (1 << 30) ? n - off : 1 << 30);
            if (MPI_Allreduce(MPI_IN_PLACE, buf + off, k, MPI_FLOAT, g_sum_f, MPI_COMM_WORLD))
                return -EIO;
        }
#else
    (void)buf;
    (void)n;
#endif
    return 0;
}

int jg_cl_sum_d(void *ctx, double *buf, int n)
{
    (void)ctx;
#ifdef JG_HAVE_MPI
    if (g_mpi && g_cl.size > 1 && !g_solo &&
        MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, g_sum_d, MPI_COMM_WORLD))
        return -EIO;
#else
    (void)buf;
    (void)n;
#endif
    return 0;
}

int jg_cl_agree(int rc)
{
#ifdef JG_HAVE_MPI
    if (g_mpi && g_cl.size > 1 && !g_solo) {
        // the most negative code wins: every rank returns the same
        int all = rc;
        MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        return all;
    }
#endif
    return rc;
}

int jg_cl_bcast(void *buf, int64_t bytes, int root)
{
#ifdef JG_HAVE_MPI
    if (g_mpi && g_cl.size > 1 && !g_solo && bytes > 0 &&
        MPI_Bcast(buf, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD))
        return -EIO;
#else
    (void)buf;
    (void)bytes;
    (void)root;
#endif
    return 0;
}

char **jg_cl_gather_text(const char *text, int only_leaders, int *n)
{
    *n = 0;
#ifdef JG_HAVE_MPI
    if (g_mpi && g_cl.size > 1 && !g_solo) {
        const int mine = (!only_leaders || g_cl.node_rank == 0) && text ? (int)strlen(text) + 1 : 0;
        int *len = g_cl.rank == 0 ? calloc((size_t)g_cl.size, sizeof *len) : NULL;
        int *off = g_cl.rank == 0 ? calloc((size_t)g_cl.size, sizeof *off) : NULL;
        MPI_Gather(&mine, 1, MPI_INT, len, 1, MPI_INT, 0, MPI_COMM_WORLD);
        int64_t total = 0;
        for (int r = 0; len && r < g_cl.size; r++) {
            off[r] = (int)total;
            total += len[r];
        }
        char *all = g_cl.rank == 0 ? malloc((size_t)total + 1) : NULL;
        MPI_Gatherv(mine ? text : "", mine, MPI_CHAR, all, len, off, MPI_CHAR, 0, MPI_COMM_WORLD);
        char **out = NULL;
        if (g_cl.rank == 0 && all && (out = calloc((size_t)g_cl.size + 1, sizeof *out)))
            for (int r = 0; r < g_cl.size; r++)
                if (len[r] > 0) out[(*n)++] = strdup(all + off[r]);
        free(all);
        free(len);
        free(off);
        return out;
    }
#else
    (void)only_leaders;
#endif
    char **out = calloc(2, sizeof *out);
    if (out && text) out[(*n)++] = strdup(text);
    return out;
}

void jg_cl_free_texts(char **texts, int n)
{
    for (int i = 0; texts && i < n; i++) free(texts[i]);
    free(texts);
}

int jg_cl_send(const void *buf, int64_t bytes, int to, int tag)
{
#ifdef JG_HAVE_MPI
    if (g_mpi && MPI_Send(buf, (int)bytes, MPI_BYTE, to, tag, MPI_COMM_WORLD) == MPI_SUCCESS)
        return 0;
#else
    (void)buf;
    (void)bytes;
    (void)to;
    (void)tag;
#endif
    return -EIO;
}

/* Open MPI's blocking receive spins a core while it waits; a coordinator or
 * an idle worker sharing the node with busy ranks would take a core from
 * them. So: test, and sleep between tests, the naps doubling from 1 us to
 * 10 ms (a short wait stays short; a long one costs ~100 wake-ups a second). */
int jg_cl_recv(void *buf, int64_t bytes, int from, int *source, int *tag)
{
#ifdef JG_HAVE_MPI
    MPI_Request req;
    MPI_Status st;
    if (!g_mpi || MPI_Irecv(buf, (int)bytes, MPI_BYTE, from < 0 ? MPI_ANY_SOURCE : from,
                            MPI_ANY_TAG, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return -EIO;
    long nap_ns = 1000;
    for (;;) {
        int done = 0;
        if (MPI_Test(&req, &done, &st) != MPI_SUCCESS) return -EIO;
        if (done) break;
        const struct timespec ts = {0, nap_ns};
        nanosleep(&ts, NULL);
        if (nap_ns < 10000000) nap_ns = nap_ns * 2 > 10000000 ? 10000000 : nap_ns * 2;
    }
    if (source) *source = st.MPI_SOURCE;
    if (tag) *tag = st.MPI_TAG;
    return 0;
#else
    (void)buf;
    (void)bytes;
    (void)from;
    (void)source;
    (void)tag;
    return -EIO;
#endif
}

int jg_cl_pending(int from, int tag)
{
#ifdef JG_HAVE_MPI
    int flag = 0;
    MPI_Status st;
    if (g_mpi && MPI_Iprobe(from, tag, MPI_COMM_WORLD, &flag, &st) == MPI_SUCCESS) return flag;
#else
    (void)from;
    (void)tag;
#endif
    return 0;
}
