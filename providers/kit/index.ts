// What the providers share: retry on lock, polling one thing or many with one read, sleep, sizes.
export { BatchPoller, type BatchPollerOptions, type BatchWaitOptions } from './batch-poller.ts';
export { MigrationFollower, type MigrationFollowerOptions, type MigrationRead } from './migration-follow.ts';
export { growingInterval, pollUntil, type PollOptions } from './poll.ts';
export { isLockedOrTransient, retryOnLock, type RetryOptions } from './retry.ts';
export { formatBytes, GiB, KiB, MiB, parseSizeText, sizeProperty, sizeText, TiB } from './sizes.ts';
export { type Sleep, sleep } from './sleep.ts';
