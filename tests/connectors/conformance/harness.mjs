// Shared by the conformance scripts: run named checks against the sandbox, print results.
//
// A check passes ("ok") when its function resolves; it "differs" when the call worked
// but the answer is not what the live API gives (expect() failed); it "fails" when the
// official client threw where the live API would have answered.
// The sandbox's URLs come from SANDBOX_<TOOL>_URL, set by test_official_clients.py.

export class Differs extends Error {}

const results = [];

export function sandboxUrl(tool) {
  const url = process.env[`SANDBOX_${tool.toUpperCase()}_URL`];
  if (!url) throw new Error(`SANDBOX_${tool.toUpperCase()}_URL is not set`);
  return url.replace(/\/+$/, "");
}

export function expect(condition, message) {
  if (!condition) throw new Differs(message);
}

export async function expectError(promise, check, message) {
  let caught = null;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught !== null, `${message}: the call succeeded`);
  expect(check(caught), `${message}: got ${caught?.constructor?.name}: ${caught?.message}`);
  return caught;
}

export async function check(tool, client, name, fn) {
  try {
    await fn();
    results.push({ tool, client, check: name, outcome: "ok" });
  } catch (error) {
    const outcome = error instanceof Differs ? "differs" : "fails";
    const detail = `${error?.constructor?.name}: ${error?.message}`.slice(0, 400);
    results.push({ tool, client, check: name, outcome, detail });
  } finally {
    await clearFaults(tool);
  }
}

/** Inject faults through the sandbox's control routes (shared by every tool). */
export async function addFaults(tool, faults) {
  const root = new URL(sandboxUrl(tool)).origin;
  const response = await fetch(`${root}/_sandbox/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(faults),
  });
  if (!response.ok) throw new Error(`cannot add faults: ${await response.text()}`);
}

export async function clearFaults(tool) {
  const root = new URL(sandboxUrl(tool)).origin;
  await fetch(`${root}/_sandbox/faults`, { method: "DELETE" });
}

export function report() {
  console.log(JSON.stringify(results));
}
