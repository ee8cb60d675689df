// SIGINT and SIGTERM held while something runs that must end cleanly rather
// than die mid-way: a run, a preconditioning pass, a VFIO bring-up.
//
// A listener replaces Node's default (exit at once), so the work is told and
// ends itself: a run stops its workers and still reports, a vfio call
// shuts the controller down. The listener is removed however the work ends.

/** Run work with onSignal on SIGINT and SIGTERM; the handlers are gone when it settles. */
export async function withInterruptHandlers<T>(onSignal: (signal: NodeJS.Signals) => void, work: () => Promise<T>): Promise<T> {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
