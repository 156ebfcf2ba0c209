// Request logs never carry credentials: no headers at all, and a `jwt` query parameter masked.
import { describe, expect, it } from "vitest";
import { loggerOptions, redactUrl } from "../../src/logger";

describe("request logging", () => {
  it("masks a JWT passed in the query string, wherever it sits", () => {
    expect(redactUrl("/zephr/public/rule-outcomes/v1/conversions?jwt=eyJhbGciOi.x.y")).toBe(
      "/zephr/public/rule-outcomes/v1/conversions?jwt=[redacted]",
    );
    expect(redactUrl("/graphql?a=1&JWT=abc&b=2")).toBe("/graphql?a=1&JWT=[redacted]&b=2");
    expect(redactUrl("/health")).toBe("/health");
  });

  it("serializes requests without their headers", () => {
    const serialize = (loggerOptions("info").serializers as Record<string, (value: unknown) => unknown>).req;
    const logged = serialize({
      method: "POST",
      url: "/api/v2/conversions?jwt=secret",
      host: "example.com",
      ip: "10.0.0.1",
      headers: { "x-api-key": "cvk_secret", cookie: "blaize_session=abc", authorization: "Bearer t" },
    });
    expect(JSON.stringify(logged)).not.toMatch(/cvk_secret|blaize_session|Bearer|jwt=secret/);
    expect(logged).toEqual({
      method: "POST",
      url: "/api/v2/conversions?jwt=[redacted]",
      host: "example.com",
      remoteAddress: "10.0.0.1",
    });
  });
});
