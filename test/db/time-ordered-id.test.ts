// Time-ordered row ids (UUID version 7): their layout, their order, their uniqueness.
import { describe, expect, it } from "vitest";
import { timeOrderedUuid } from "../../src/db/time-ordered-id";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("timeOrderedUuid", () => {
  it("is a version 7 UUID whose first 48 bits are the time in milliseconds", () => {
    const now = Date.UTC(2031, 4, 6, 7, 8, 9, 123);
    const id = timeOrderedUuid(now);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBe(now);
    expect(timeOrderedUuid(0).slice(0, 13)).toBe("00000000-0000");
    expect(timeOrderedUuid(2 ** 48 - 1).slice(0, 13)).toBe("ffffffff-ffff");
  });

  it("sorts ids of later milliseconds after earlier ones, as text", () => {
    const start = Date.now();
    const ids = Array.from({ length: 1_000 }, (_, k) => timeOrderedUuid(start + k * 7));
    expect([...ids].sort()).toEqual(ids);
  });

  it("never repeats itself, within a millisecond too", () => {
    const now = Date.now();
    const ids = Array.from({ length: 10_000 }, () => timeOrderedUuid(now));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
  });
});
