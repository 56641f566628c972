/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef AW_WRITER_H
#define AW_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct aw_writer;

/* Start the writer thread for store; cap bounds the queued bytes. */
int aw_writer_start(struct aw_store *store, size_t cap, struct aw_writer **ret);
/* Queue one event (copied). Waits while the queue is full. */
int aw_writer_add(struct aw_writer *w, const struct aw_store_event *e);
/* Any other use of the store from the event loop goes between these. */
void aw_writer_store_lock(struct aw_writer *w);
void aw_writer_store_unlock(struct aw_writer *w);
/* Events accepted and then lost (insert or commit failed, no memory). */
uint64_t aw_writer_lost(struct aw_writer *w);
/* What waits for the writer: events and bytes queued (the batch being
 * inserted is not counted). */
void aw_writer_queue(struct aw_writer *w, uint64_t *ret_events,
		     uint64_t *ret_bytes);
/* Events inserted and committed so far. */
uint64_t aw_writer_committed(struct aw_writer *w);
/* Write out what is queued, commit, and stop the thread. */
void aw_writer_stop(struct aw_writer *w);

#endif
