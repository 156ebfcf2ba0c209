// SQLite migrations, in order. Hand-reviewed; never generated at run time.
import { InitialSchema1764072000000 } from "./1764072000000-InitialSchema";
import { SplitTests1764158400000 } from "./1764158400000-SplitTests";
import { ExactIdentifiers1764244800000 } from "./1764244800000-ExactIdentifiers";
import { VisitorErasure1764590400000 } from "./1764590400000-VisitorErasure";
import { IdempotencyKeys1764676800000 } from "./1764676800000-IdempotencyKeys";
import { OutcomeSeriesAndCrossovers1764763200000 } from "./1764763200000-OutcomeSeriesAndCrossovers";
import { RecordedDayCounts1764849600000 } from "./1764849600000-RecordedDayCounts";
import { ConversionsByContact1764936000000 } from "./1764936000000-ConversionsByContact";

export const sqliteMigrations: Function[] = [
  InitialSchema1764072000000,
  SplitTests1764158400000,
  ExactIdentifiers1764244800000,
  VisitorErasure1764590400000,
  IdempotencyKeys1764676800000,
  OutcomeSeriesAndCrossovers1764763200000,
  RecordedDayCounts1764849600000,
  ConversionsByContact1764936000000,
];
