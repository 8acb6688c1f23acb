// Preloaded (`node --import`) into the servers that test files start, never in production.
// A test file killed at its time limit never runs its teardown, so a server it started
// would live on as an orphan, holding a port and taking CPU from the suites after it (one
// such run left three behind). Once its parent is gone, the server is re-parented and
// this exits it.
const parent = process.ppid

setInterval(() => {
  if (process.ppid !== parent) process.exit(1)
}, 500).unref()
