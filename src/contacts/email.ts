// How emails are compared: trimmed and lower-cased, so " User@Example.com" is "user@example.com".
export const EMAIL_MAX_LENGTH = 320;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase().toWellFormed();
}

/** Why a contact email is unusable, or null when it is fine. Deliberately lenient: no DNS, no RFC parser. */
export function contactEmailProblem(email: string): string | null {
  if (email.length === 0) return "email is empty";
  if (email.length > EMAIL_MAX_LENGTH) return `email is longer than ${EMAIL_MAX_LENGTH} characters`;
  if (/\s/.test(email)) return "email contains whitespace";
  const at = email.lastIndexOf("@");
  if (at <= 0 || at === email.length - 1) return "email is not of the form local@domain";
  return null;
}
