// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unified diffs, in five steps:
 *
 *   1. split both inputs into lines and number the distinct lines (a hash
 *      table whose every hit is checked byte for byte), so that the search
 *      compares integers and a hash collision costs time, never a line;
 *   2. drop the lines common to both starts and to both ends, and set
 *      aside the lines that the other side does not have at all;
 *   3. find a shortest edit script for what is left with Myers' O(ND)
 *      algorithm in linear space: search forward from the start and
 *      backward from the end at once until the two searches meet on a
 *      diagonal, split the problem there and do each half the same way;
 *   4. slide each run of changes over equal lines to where GNU diff shows
 *      it (last possible place, unless it can sit next to a change in the
 *      other file);
 *   5. print hunks with 3 lines of context.
 *
 * The inputs come from an agent and may be built to be slow. Memory is
 * linear in the number of lines. Time is bounded by giving up on the search
 * once the edit distance passes UDIFF_MAX_COST or the work passes
 * UDIFF_MAX_WORK: all that differs after step 2 is then shown as one block
 * of its old lines deleted and its new lines inserted, a correct if long
 * diff. (Should the work run out deeper down, only the part still
 * undecided is shown that way.)
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "review/udiff.h"
#include "shared/json.h"

#define UDIFF_CONTEXT 3
/* Edit distance beyond which the search gives up. Each direction then
 * goes UDIFF_MAX_COST / 2 steps of up to that many diagonals: about 2.5e7
 * simple iterations, a few tens of milliseconds. */
#define UDIFF_MAX_COST 10000L
/* Diagonals visited plus lines compared, over the whole search: long
 * matching runs on many diagonals cost time that the distance alone does
 * not bound. */
#define UDIFF_MAX_WORK 200000000L

struct side {
	const char *p;
	size_t len;
	long n;	      /* lines */
	size_t *off;  /* line i is p[off[i] .. off[i + 1]) */
	uint32_t *id; /* equal lines, equal ids */
	char *chg;    /* line i is deleted (in a) or inserted (in b) */
};

static void side_free(struct side *s)
{
	free(s->off);
	free(s->id);
	free(s->chg);
}

static int side_split(struct side *s)
{
	size_t pos;
	long n = 0;
	const char *nl;

	for (pos = 0; pos < s->len; pos = nl - s->p + 1) {
		nl = memchr(s->p + pos, '\n', s->len - pos);
		n++;
		if (!nl)
			break;
	}
	s->n = n;
	/* One spare element each so that empty inputs allocate too. */
	s->off = malloc((n + 1) * sizeof(*s->off));
	s->id = malloc((n + 1) * sizeof(*s->id));
	s->chg = calloc(n + 1, 1);
	if (!s->off || !s->id || !s->chg)
		return -ENOMEM;
	n = 0;
	for (pos = 0; pos < s->len; pos = nl - s->p + 1) {
		s->off[n++] = pos;
		nl = memchr(s->p + pos, '\n', s->len - pos);
		if (!nl)
			break;
	}
	s->off[n] = s->len;
	return 0;
}

static inline const char *line_ptr(const struct side *s, long i)
{
	return s->p + s->off[i];
}

static inline size_t line_len(const struct side *s, long i)
{
	return s->off[i + 1] - s->off[i];
}

/*
 * Line classes. The table holds class ids; the classes hold their hash
 * and one line as the representative. The hash is seeded per call: lines
 * crafted to collide under a fixed seed would make every lookup walk a
 * long chain.
 */
struct classes {
	uint32_t *slot; /* id + 1, 0 when free */
	size_t mask;	/* slots - 1, a power of two minus one */
	uint64_t *hash;
	const char **ptr;
	size_t *len;
	size_t n, cap;
	uint64_t seed;
};

static void classes_free(struct classes *c)
{
	free(c->slot);
	free(c->hash);
	free(c->ptr);
	free(c->len);
}

static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t line_hash(uint64_t seed, const char *p, size_t n)
{
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = mix64(h ^ w) + 0x9e3779b97f4a7c15ULL;
	}
	w = 0;
	memcpy(&w, p, n);
	return mix64(h ^ w ^ seed);
}

static int classes_grow(struct classes *c)
{
	size_t cap = c->cap ? c->cap * 2 : 512, nslots = cap * 2, i, j;
	uint64_t *hash;
	const char **ptr;
	size_t *len;
	uint32_t *slot;

	hash = realloc(c->hash, cap * sizeof(*hash));
	if (!hash)
		return -ENOMEM;
	c->hash = hash;
	ptr = realloc(c->ptr, cap * sizeof(*ptr));
	if (!ptr)
		return -ENOMEM;
	c->ptr = ptr;
	len = realloc(c->len, cap * sizeof(*len));
	if (!len)
		return -ENOMEM;
	c->len = len;
	slot = calloc(nslots, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		for (j = c->hash[i] & (nslots - 1); slot[j];
		     j = (j + 1) & (nslots - 1))
			;
		slot[j] = i + 1;
	}
	free(c->slot);
	c->slot = slot;
	c->mask = nslots - 1;
	c->cap = cap;
	return 0;
}

/* The class id of a line, adding a class if it is new; -ENOMEM. */
static long classes_get(struct classes *c, const char *p, size_t len)
{
	uint64_t h = line_hash(c->seed, p, len);
	size_t i;
	uint32_t v;

	if (c->n == c->cap && classes_grow(c) < 0)
		return -ENOMEM;
	for (i = h & c->mask; (v = c->slot[i]); i = (i + 1) & c->mask) {
		v--;
		if (c->hash[v] == h && c->len[v] == len &&
		    !memcmp(c->ptr[v], p, len))
			return v;
	}
	/* The table has twice as many slots as classes can fill, so the
	 * free slot found above is still free. */
	c->slot[i] = c->n + 1;
	c->hash[c->n] = h;
	c->ptr[c->n] = p;
	c->len[c->n] = len;
	return c->n++;
}

/* Number the lines of both sides; the number of classes, or -ENOMEM. */
static long classify(struct side *sa, struct side *sb)
{
	struct classes c = {};
	struct side *sides[2] = {sa, sb};
	long i, id, r;
	int k;

	if (getrandom(&c.seed, sizeof(c.seed), GRND_NONBLOCK) != sizeof(c.seed))
		c.seed = 0x2545f4914f6cdd1dULL ^ (uintptr_t)&c;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < sides[k]->n; i++) {
			id = classes_get(&c, line_ptr(sides[k], i),
					 line_len(sides[k], i));
			if (id < 0) {
				r = -ENOMEM;
				goto out;
			}
			sides[k]->id[i] = id;
		}
	}
	r = c.n;
out:
	classes_free(&c);
	return r;
}

/*
 * The search, in the coordinates of the region left after step 2: x
 * counts lines of a, y lines of b, diagonal k holds the points x - y = k.
 * fv[k] is the furthest x that the forward search has reached on diagonal
 * k, bv[k] the smallest x that the backward search has reached.
 */
struct search {
	const uint32_t *a, *b;
	char *ca, *cb;
	long na, nb;
	long *fv, *bv;
	long vmid; /* index of diagonal 0 in fv, of diagonal delta in bv */
	long dlim; /* steps allowed in each direction */
	long work; /* left before giving up */
	int whole; /* gave up at once: no alignment at all */
};

#define F_NONE (-1L)
#define B_NONE LONG_MAX

/*
 * A point (ret_x, ret_y) on a shortest path from (x0, y0) to (x1, y1).
 * The region is not empty in either direction and its first lines, like
 * its last ones, differ. Returns -1 when the search would cost too much.
 *
 * Each step adds one edit on every diagonal the search can reach, then
 * follows matching lines down the diagonal. The reachable diagonals are
 * clamped to the region; the slots just outside the new range hold "not
 * reached" so that the loop needs no special case at the edges. A move
 * that would leave the region is not taken (a plain Myers loop relies on
 * the searches meeting before it happens).
 */
static int mid_snake(struct search *s, long x0, long x1, long y0, long y1,
		     long *ret_x, long *ret_y)
{
	const uint32_t *a = s->a + x0, *b = s->b + y0;
	const long n = x1 - x0, m = y1 - y0, delta = n - m;
	const int odd = delta & 1;
	long *fv = s->fv + s->vmid, *bv = s->bv + s->vmid;
	long fmin = 0, fmax = 0, bmin = delta, bmax = delta, d, k;

/* bv is indexed relative to delta: both searches then fit in
 * [-dlim - 1, dlim + 1] around vmid whatever the shape of the region. */
#define BV(k) bv[(k)-delta]
	/* Earlier calls left their values behind: set what step 1 reads. */
	fv[-1] = fv[1] = F_NONE;
	fv[0] = 0;
	BV(delta - 1) = BV(delta + 1) = B_NONE;
	BV(delta) = n;
	for (d = 1; d <= s->dlim && s->work > 0; d++) {
		if (fmin > -m)
			fv[--fmin - 1] = F_NONE;
		else
			fmin++;
		if (fmax < n)
			fv[++fmax + 1] = F_NONE;
		else
			fmax--;
		for (k = fmax; k >= fmin; k -= 2) {
			long lo = fv[k - 1], hi = fv[k + 1], x = fv[k], x_in;
			long y;

			/* Right from diagonal k - 1, or down from k + 1. */
			if (lo != F_NONE && lo < n && lo + 1 > x)
				x = lo + 1;
			if (hi != F_NONE && hi - (k + 1) < m && hi > x)
				x = hi;
			fv[k] = x;
			if (x == F_NONE)
				continue;
			for (x_in = x, y = x - k;
			     x < n && y < m && a[x] == b[y]; x++, y++)
				;
			fv[k] = x;
			s->work -= x - x_in + 1;
			if (odd && k >= bmin && k <= bmax && BV(k) <= x) {
				*ret_x = x0 + x;
				*ret_y = y0 + y;
				return 0;
			}
		}

		if (bmin > -m)
			BV(--bmin - 1) = B_NONE;
		else
			bmin++;
		if (bmax < n)
			BV(++bmax + 1) = B_NONE;
		else
			bmax--;
		for (k = bmax; k >= bmin; k -= 2) {
			long lo = BV(k - 1), hi = BV(k + 1), x = BV(k), x_in;
			long y;

			/* Up from diagonal k - 1, or left from k + 1. */
			if (lo != B_NONE && lo - (k - 1) > 0 && lo < x)
				x = lo;
			if (hi != B_NONE && hi > 0 && hi - 1 < x)
				x = hi - 1;
			BV(k) = x;
			if (x == B_NONE)
				continue;
			for (x_in = x, y = x - k;
			     x > 0 && y > 0 && a[x - 1] == b[y - 1]; x--, y--)
				;
			BV(k) = x;
			s->work -= x_in - x + 1;
			if (!odd && k >= fmin && k <= fmax && fv[k] != F_NONE &&
			    x <= fv[k]) {
				*ret_x = x0 + x;
				*ret_y = y0 + y;
				return 0;
			}
		}
	}
#undef BV
	return -1;
}

/* Mark the changes that turn a[x0..x1) into b[y0..y1); top for the
 * whole region. */
static void diff_range(struct search *s, long x0, long x1, long y0, long y1,
		       int top)
{
	long xm, ym;

	/* The second half is done by the loop, the first by recursion: the
	 * halves' costs halve, so the depth stays near log2(distance). */
	for (;;) {
		while (x0 < x1 && y0 < y1 && s->a[x0] == s->b[y0])
			x0++, y0++;
		while (x0 < x1 && y0 < y1 && s->a[x1 - 1] == s->b[y1 - 1])
			x1--, y1--;
		if (x0 == x1 || y0 == y1)
			break;
		if (mid_snake(s, x0, x1, y0, y1, &xm, &ym) < 0 ||
		    (xm == x0 && ym == y0) || (xm == x1 && ym == y1)) {
			/* Too costly, or (never seen) a split that would not
			 * shrink the problem: replace the region wholesale. */
			s->whole = top;
			break;
		}
		diff_range(s, x0, xm, y0, ym, 0);
		x0 = xm;
		y0 = ym;
		top = 0;
	}
	memset(s->ca + x0, 1, x1 - x0);
	memset(s->cb + y0, 1, y1 - y0);
}

/*
 * Step 4, for the runs of changes in x (y is the other file). A run can
 * slide up when the line above it equals its last line, and down when the
 * line below it equals its first: the diff stays correct, only the lines
 * shown as changed move. Like GNU diff: slide each run as far down as it
 * goes (merging with the runs it meets), then back up to the lowest place
 * where it touches a run of changes in y, so that a replaced block shows
 * as its deletions next to its insertions. jend tracks the line of y
 * paired with x's line just below the run. budget bounds the slides over
 * pathological inputs (any state in between is a correct diff).
 */
static void shift_runs(struct side *x, const struct side *y, long *budget)
{
	char *cx = x->chg;
	const char *cy = y->chg;
	const uint32_t *id = x->id;
	long n = x->n, m = y->n, i = 0, j = 0;

	for (;;) {
		long start, end, jend, corr, len;

		while (i < n && !cx[i]) {
			while (j < m && cy[j])
				j++;
			i++;
			j++;
		}
		if (i >= n)
			return;
		start = i;
		while (i < n && cx[i])
			i++;
		end = i;
		for (jend = j; jend < m && cy[jend]; jend++)
			;
		do {
			len = end - start;
			while (start > 0 && id[start - 1] == id[end - 1]) {
				if (--*budget < 0)
					return;
				cx[--start] = 1;
				cx[--end] = 0;
				while (start > 0 && cx[start - 1])
					start--;
				/* x[end] takes the partner of the line that
				 * was above the run. */
				do
					jend--;
				while (jend > 0 && cy[jend]);
			}
			corr = jend > 0 && cy[jend - 1] ? end : -1;
			while (end < n && id[start] == id[end]) {
				if (--*budget < 0)
					return;
				cx[start++] = 0;
				cx[end++] = 1;
				while (end < n && cx[end])
					end++;
				/* x[old start] took y[jend]; x[end] pairs with
				 * the next line of y not inserted. */
				for (jend++; jend < m && cy[jend]; jend++)
					;
				if (jend > 0 && cy[jend - 1])
					corr = end;
			}
		} while (len != end - start);
		/* Every place between corr and here was visited on the way
		 * down, so each step back up is over equal lines. */
		while (corr >= 0 && end > corr) {
			cx[--start] = 1;
			cx[--end] = 0;
			do
				jend--;
			while (jend > 0 && cy[jend]);
		}
		i = end;
		j = jend;
	}
}

struct group {
	long a0, a1, b0, b1;
};

/* The next run of changes from (*i, *j), a pair of aligned lines. */
static int next_group(const struct side *sa, const struct side *sb, long *i,
		      long *j, struct group *g)
{
	long x = *i, y = *j;

	while (x < sa->n && y < sb->n && !sa->chg[x] && !sb->chg[y])
		x++, y++;
	g->a0 = x;
	g->b0 = y;
	while (x < sa->n && sa->chg[x])
		x++;
	while (y < sb->n && sb->chg[y])
		y++;
	g->a1 = x;
	g->b1 = y;
	*i = x;
	*j = y;
	return g->a1 > g->a0 || g->b1 > g->b0;
}

/* GNU's forms: "l" for one line, "l,0" (l = the line before) for none. */
static void put_range(struct aw_buf *out, long start, long count)
{
	if (count == 0)
		aw_buf_printf(out, "%ld,0", start);
	else if (count == 1)
		aw_buf_printf(out, "%ld", start + 1);
	else
		aw_buf_printf(out, "%ld,%ld", start + 1, count);
}

static void put_line(struct aw_buf *out, char tag, const struct side *s, long i)
{
	const char *p = line_ptr(s, i);
	size_t n = line_len(s, i);

	aw_buf_add(out, &tag, 1);
	aw_buf_add(out, p, n);
	if (p[n - 1] != '\n')
		aw_buf_puts(out, "\n\\ No newline at end of file\n");
}

static long min3(long a, long b, long c)
{
	return a < b ? (a < c ? a : c) : (b < c ? b : c);
}

static int emit_hunks(struct aw_buf *out, const struct side *sa,
		      const struct side *sb)
{
	struct group g, first, last;
	long i = 0, j = 0;
	int more, hunks = 0;

	more = next_group(sa, sb, &i, &j, &g);
	while (more) {
		long before, after, as, ae, bs, be, x, y;

		/* Changes closer than twice the context share a hunk. */
		first = last = g;
		while ((more = next_group(sa, sb, &i, &j, &g)) &&
		       g.a0 - last.a1 <= 2 * UDIFF_CONTEXT)
			last = g;
		before = min3(UDIFF_CONTEXT, first.a0, first.b0);
		after = min3(UDIFF_CONTEXT, sa->n - last.a1, sb->n - last.b1);
		as = first.a0 - before;
		bs = first.b0 - before;
		ae = last.a1 + after;
		be = last.b1 + after;

		aw_buf_puts(out, "@@ -");
		put_range(out, as, ae - as);
		aw_buf_puts(out, " +");
		put_range(out, bs, be - bs);
		aw_buf_puts(out, " @@\n");
		for (x = as, y = bs; x < ae || y < be;) {
			if (x < ae && y < be && !sa->chg[x] && !sb->chg[y]) {
				put_line(out, ' ', sa, x++);
				y++;
				continue;
			}
			if (!(x < ae && sa->chg[x]) && !(y < be && sb->chg[y]))
				break; /* unpaired context: cannot happen */
			while (x < ae && sa->chg[x])
				put_line(out, '-', sa, x++);
			while (y < be && sb->chg[y])
				put_line(out, '+', sb, y++);
		}
		hunks++;
	}
	return hunks;
}

/*
 * A line whose class is nowhere in the other side's region cannot be
 * matched by any script: it is marked at once and left out of the search,
 * which then runs on the lines it could align. New or rewritten text is
 * mostly such lines, so the search stays short and gives up far less
 * often (GNU diff discards them too).
 */
struct reduced {
	uint32_t *id;
	long *line; /* where id[i] is in the region */
	char *chg;
	long n;
};

static void reduced_free(struct reduced *r)
{
	free(r->id);
	free(r->line);
	free(r->chg);
}

static int reduce(struct reduced *r, const uint32_t *id, char *chg, long n,
		  const unsigned char *seen, unsigned char other)
{
	long i;

	r->id = malloc((n + 1) * sizeof(*r->id));
	r->line = malloc((n + 1) * sizeof(*r->line));
	r->chg = calloc(n + 1, 1);
	if (!r->id || !r->line || !r->chg)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (seen[id[i]] & other) {
			r->id[r->n] = id[i];
			r->line[r->n++] = i;
		} else {
			chg[i] = 1;
		}
	}
	return 0;
}

static void unreduce(const struct reduced *r, char *chg)
{
	long i;

	for (i = 0; i < r->n; i++)
		if (r->chg[i])
			chg[r->line[i]] = 1;
}

int aw_udiff(struct aw_buf *out, const char *a, size_t alen, const char *b,
	     size_t blen)
{
	struct side sa = {.p = a, .len = alen}, sb = {.p = b, .len = blen};
	struct reduced ra = {}, rb = {};
	struct search s = {};
	unsigned char *seen = NULL;
	long pre = 0, suf = 0, na, nb, i, nclasses = 0, budget;
	int r;

	if (alen == blen && (!alen || !memcmp(a, b, alen)))
		return out->oom ? -ENOMEM : 0;
	r = side_split(&sa);
	if (r >= 0)
		r = side_split(&sb);
	/* Class ids are 32 bits: more lines than that is more than 4 GiB
	 * of input, beyond what this is for. */
	if (r >= 0 && (uint64_t)sa.n + (uint64_t)sb.n >= UINT32_MAX)
		r = -ENOMEM;
	if (r >= 0)
		nclasses = classify(&sa, &sb);
	if (r < 0 || nclasses < 0) {
		r = -ENOMEM;
		goto out;
	}

	while (pre < sa.n && pre < sb.n && sa.id[pre] == sb.id[pre])
		pre++;
	while (suf < sa.n - pre && suf < sb.n - pre &&
	       sa.id[sa.n - 1 - suf] == sb.id[sb.n - 1 - suf])
		suf++;
	na = sa.n - pre - suf;
	nb = sb.n - pre - suf;

	seen = calloc(nclasses + 1, 1);
	if (!seen) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < na; i++)
		seen[sa.id[pre + i]] |= 1;
	for (i = 0; i < nb; i++)
		seen[sb.id[pre + i]] |= 2;
	r = reduce(&ra, sa.id + pre, sa.chg + pre, na, seen, 2);
	if (r >= 0)
		r = reduce(&rb, sb.id + pre, sb.chg + pre, nb, seen, 1);
	if (r < 0)
		goto out;

	s.a = ra.id;
	s.b = rb.id;
	s.ca = ra.chg;
	s.cb = rb.chg;
	s.na = ra.n;
	s.nb = rb.n;
	s.dlim = UDIFF_MAX_COST / 2;
	s.vmid = s.dlim + 1;
	s.work = UDIFF_MAX_WORK;
	s.fv = malloc((2 * s.dlim + 3) * sizeof(*s.fv));
	s.bv = malloc((2 * s.dlim + 3) * sizeof(*s.bv));
	if (!s.fv || !s.bv) {
		r = -ENOMEM;
		goto out;
	}
	diff_range(&s, 0, s.na, 0, s.nb, 1);
	unreduce(&ra, sa.chg + pre);
	unreduce(&rb, sb.chg + pre);

	if (s.whole) {
		/* One block for all that differs, as promised, rather than
		 * a few lines set aside near its ends shown apart. */
		memset(sa.chg + pre, 1, na);
		memset(sb.chg + pre, 1, nb);
	} else {
		budget = 4 * (sa.n + sb.n) + 100000;
		shift_runs(&sa, &sb, &budget);
		shift_runs(&sb, &sa, &budget);
	}
	r = emit_hunks(out, &sa, &sb);
	if (out->oom)
		r = -ENOMEM;
out:
	free(s.fv);
	free(s.bv);
	free(seen);
	reduced_free(&ra);
	reduced_free(&rb);
	side_free(&sa);
	side_free(&sb);
	return r;
}
