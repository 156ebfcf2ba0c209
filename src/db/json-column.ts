// JSON columns read back as objects on MySQL and SQLite, but MariaDB (JSON = LONGTEXT) may hand
// mysql2 a string: every JSON column goes through this one conversion.
import type { ValueTransformer } from "typeorm";

export const jsonColumnTransformer: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown) => {
    if (typeof value === "string") {
      try {
        return JSON.parse(value);
      } catch {
        return value;
      }
    }
    return value;
  },
};
