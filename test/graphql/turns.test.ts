// inLaterTurn: values released in later turns of the event loop, in order, with other callbacks between them.
import { describe, expect, it } from "vitest";
import { inLaterTurn } from "../../src/graphql/turns";

describe("inLaterTurn", () => {
  it("releases every value, in the order asked, after callbacks queued meanwhile", async () => {
    const order: string[] = [];
    const released = [0, 1, 2, 3, 4].map((value) => inLaterTurn(value).then((got) => order.push(`value ${got}`)));
    setImmediate(() => order.push("other"));
    expect(order).toEqual([]);
    await Promise.all(released);
    expect(order.filter((entry) => entry.startsWith("value"))).toEqual(
      [0, 1, 2, 3, 4].map((value) => `value ${value}`),
    );
    expect(order.indexOf("other")).toBeLessThan(order.indexOf("value 4"));
  });

  it("lets timers run while costly values are completed", async () => {
    // Each value costs 3 ms once released (as a day of a series costs its completion): 30 values, 90 ms.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const busy = (milliseconds: number) => {
      const until = performance.now() + milliseconds;
      while (performance.now() < until);
    };
    await Promise.all(Array.from({ length: 30 }, (_, value) => inLaterTurn(value).then(() => busy(3))));
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(3);
  });
});
