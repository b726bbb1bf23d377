/**
 * Every file system call of a daemon goes through libuv's thread pool, four threads by default:
 * the fsyncs of a batch of files being installed would hold them all, and every stat, read and
 * block write would queue behind them. libuv reads the size when the pool first runs, so this
 * module is the first the CLI and the engine host import; a size set in the environment wins.
 */
process.env['UV_THREADPOOL_SIZE'] ??= '16';
