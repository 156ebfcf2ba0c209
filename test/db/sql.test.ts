// The SQL helpers' pure parts: timestamps as both databases store DATETIME(3).
import { describe, expect, it } from "vitest";
import { fromDbTimestamp, toDbTimestamp } from "../../src/db/sql";

describe("toDbTimestamp", () => {
  it("writes UTC as 'YYYY-MM-DD hh:mm:ss.mmm', the same text toISOString gives, and reads back", () => {
    expect(toDbTimestamp(new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 12)))).toBe("2031-05-06 07:08:09.012");
    expect(toDbTimestamp(new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)))).toBe("1999-12-31 23:59:59.999");
    let seed = 42;
    for (let k = 0; k < 2_000; k++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const date = new Date(seed * 1_000 + (k % 1_000));
      const text = toDbTimestamp(date);
      expect(text).toBe(date.toISOString().replace("T", " ").replace("Z", ""));
      expect(fromDbTimestamp(text).getTime()).toBe(date.getTime());
    }
  });

  it("answers each date, not the last one remembered, when dates repeat and change", () => {
    const first = new Date(Date.UTC(2030, 0, 1, 0, 0, 0, 1));
    const second = new Date(first.getTime() + 1);
    expect([first, first, second, first].map(toDbTimestamp)).toEqual([
      "2030-01-01 00:00:00.001",
      "2030-01-01 00:00:00.001",
      "2030-01-01 00:00:00.002",
      "2030-01-01 00:00:00.001",
    ]);
  });

  it("keeps toISOString's form outside years 1000-9999", () => {
    const early = new Date(Date.UTC(999, 0, 2, 3, 4, 5, 6));
    expect(toDbTimestamp(early)).toBe(early.toISOString().replace("T", " ").replace("Z", ""));
  });
});
