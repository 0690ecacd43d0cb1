/*
 * progress.c: a progress bar on standard error for long queries, drawn only
 * when standard error is a terminal and the query has run for a second. A
 * thread polls DuckDB's query progress (safe from another thread) and the
 * line is cleared when the query ends.
 */
#include "base/compat.h"
#include "cli/cli.h"
#include "base/tn_mem.h"
#include "base/tn_util.h"
#include "engine/duck.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_DELAY 1.0   /* seconds before the bar appears */
#define PROGRESS_WIDTH 40

struct cli_progress {
	struct duck *duck;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
	int drawn;
	double start;
};

static void draw(struct cli_progress *p, double pct)
{
	char bar[PROGRESS_WIDTH + 1];
	int i, fill = (int)(pct * PROGRESS_WIDTH / 100.0);

	for (i = 0; i < PROGRESS_WIDTH; i++)
		bar[i] = i < fill ? '#' : ' ';
	bar[PROGRESS_WIDTH] = '\0';
	fprintf(stderr, "\r[%s] %3d%%  %.0fs", bar, (int)pct, tn_mono() - p->start);
	fflush(stderr);
	p->drawn = 1;
}

static void *run(void *arg)
{
	struct cli_progress *p = arg;
	struct timespec until;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &until);
		if (!p->stop && tn_mono() - p->start >= PROGRESS_DELAY) {
			double pct = duck_progress(p->duck);
			if (pct >= 0 && pct <= 100)
				draw(p, pct);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct cli_progress *cli_progress_start(struct duck *duck)
{
	struct cli_progress *p;

	static struct duck *tracked;
	struct tn_err err = TN_ERR_INIT;

	if (!duck || !isatty(STDERR_FILENO))
		return NULL;
	/* Counting progress costs every query a little: only for a terminal. */
	if (tracked != duck) {
		if (duck_track_progress(duck, &err))
			return NULL;
		tracked = duck;
	}
	p = tn_calloc(1, sizeof(*p));
	p->duck = duck;
	p->start = tn_mono();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		/* No bar is no reason to fail the query. */
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		tn_free(p);
		return NULL;
	}
	return p;
}

void cli_progress_stop(struct cli_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	if (p->drawn)
		fprintf(stderr, "\r%*s\r", PROGRESS_WIDTH + 16, "");
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	tn_free(p);
}
