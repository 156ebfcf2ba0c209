// Completing a large result in slices (domain-free). graphql-js completes a list synchronously, every item's
// fields in one go: for the 3,660 outcomes of a long series that holds the event loop for 150–250 ms. A field
// resolver that answers through inLaterTurn gets its value in a later turn of the event loop, first in first
// out, a few values per turn, so that what their subtrees cost is paid between other callbacks (another
// request, /health).
const waiting: (() => void)[] = [];
let scheduled = false;
/** Values released per turn: adjusted so that a turn (their completion included) lasts about TURN_MS. */
let perTurn = 1;
let turnStarted = 0;
const TURN_MS = 5;
const MAX_PER_TURN = 64;

/** The value, in a later turn of the event loop. */
export function inLaterTurn<T>(value: T): Promise<T> {
  return new Promise<T>((resolve) => {
    waiting.push(() => resolve(value));
    if (!scheduled) {
      scheduled = true;
      perTurn = 1;
      turnStarted = 0;
      setImmediate(nextTurn);
    }
  });
}

function nextTurn(): void {
  const now = performance.now();
  // The last turn's values were completed in its microtasks, after it returned: its length shows at this start.
  if (turnStarted > 0) {
    const lasted = Math.max(now - turnStarted, 0.01);
    perTurn = Math.max(1, Math.min(MAX_PER_TURN, Math.floor((perTurn * TURN_MS) / lasted)));
  }
  turnStarted = now;
  for (let released = 0; released < perTurn && waiting.length > 0; released++) (waiting.shift() as () => void)();
  if (waiting.length > 0) setImmediate(nextTurn);
  else scheduled = false;
}
