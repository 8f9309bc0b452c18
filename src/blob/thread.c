/*
 * Worker threads: every parallel stage starts and joins its threads
 * here, as many as the context allows (dc__threads). A stage that
 * cannot start any does its work on the calling thread.
 */
#include "blob/blob.h"

#include "banned.h"

size_t dc__threads_start(pthread_t *th, size_t n, void *(*fn)(void *),
			 void *arg)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, fn, arg))
			break;
	return i;
}

void dc__threads_join(pthread_t *th, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

void dc__threads_run(size_t n, void *(*fn)(void *), void *arg)
{
	pthread_t th[64];
	size_t nth;

	if (n > sizeof(th) / sizeof(th[0]))
		n = sizeof(th) / sizeof(th[0]);
	if (!(nth = dc__threads_start(th, n, fn, arg)))
		fn(arg);
	dc__threads_join(th, nth);
}
