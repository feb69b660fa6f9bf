// airtable (npm), unmodified, against the sandbox's Airtable REST API.
import Airtable from "airtable";
import { addFaults, check, expect, expectError, report, sandboxUrl } from "./harness.mjs";

const endpointUrl = sandboxUrl("airtable");
const baseId = process.env.SANDBOX_AIRTABLE_BASE;
const client = new Airtable({ apiKey: "patCONFORMANCE.token", endpointUrl, noRetryIfRateLimited: true });
const base = client.base(baseId);
const run = (name, fn) => check("airtable", "airtable", name, fn);
const s = {};
const httpError = (status, type) => (e) => e.statusCode === status && (!type || e.error === type);

await run("select().all() follows offsets", async () => {
  const pages = [];
  await base("Intake").select({ pageSize: 5 }).eachPage((records, next) => {
    pages.push(records.length);
    next();
  });
  const all = await base("Intake").select({ pageSize: 5 }).all();
  expect(pages.join(",") === "5,5,2" && all.length === 12, `pages ${pages}`);
});
await run("filterByFormula, sort, fields, maxRecords", async () => {
  const filed = await base("Intake")
    .select({ filterByFormula: "{Status} = 'Filed'", sort: [{ field: "Title", direction: "desc" }], fields: ["Title", "Status"] })
    .all();
  expect(filed.every((r) => r.get("Status") === "Filed"), "only Filed rows");
  const titles = filed.map((r) => r.get("Title") ?? "");
  expect(titles.every((t, n) => n === 0 || titles[n - 1] >= t), "sorted desc");
  expect(filed.every((r) => r.get("Description") === undefined), "only the asked fields");
  const few = await base("Intake").select({ maxRecords: 3 }).all();
  expect(few.length === 3, "maxRecords");
});
await run("firstPage", async () => {
  const first = await base("Intake").select({ pageSize: 4 }).firstPage();
  expect(first.length === 4, "four");
});
await run("create one and many", async () => {
  const one = await base("Issues").create({ "Linear ID": "ENG-101", Priority: "High" });
  const many = await base("Issues").create(
    [{ fields: { "Linear ID": "ENG-102" } }, { fields: { "Linear ID": "ENG-103" } }],
    { typecast: true },
  );
  expect(one.id.startsWith("rec") && many.length === 2, "created");
  s.id = one.id;
  s.many = many.map((r) => r.id);
});
await run("find by id", async () => {
  const record = await base("Issues").find(s.id);
  expect(record.get("Linear ID") === "ENG-101", "found");
});
await run("update (PATCH) and replace (PUT)", async () => {
  const patched = await base("Issues").update(s.id, { Title: "Checkout" });
  expect(patched.get("Priority") === "High" && patched.get("Title") === "Checkout", "merged");
  const replaced = await base("Issues").replace(s.id, { "Linear ID": "ENG-101" });
  expect(replaced.get("Priority") === undefined, "replaced");
});
await run("upsert with performUpsert", async () => {
  const rows = [{ fields: { "Linear ID": "ENG-101", Status: "Todo" } }, { fields: { "Linear ID": "ENG-120", Status: "Todo" } }];
  const result = await base("Issues").update(rows, { performUpsert: { fieldsToMergeOn: ["Linear ID"] } });
  expect(result.length === 2 && result.some((r) => r.id === s.id), "merged on Linear ID");
});
await run("destroy one and many", async () => {
  const gone = await base("Issues").destroy(s.id);
  const gones = await base("Issues").destroy(s.many);
  expect(gone.id === s.id && gones.length === 2, "deleted");
});
await run("an unknown record is 404 NOT_FOUND", async () => {
  await expectError(base("Issues").find("recDOESNOTEXIST00"), httpError(404, "NOT_FOUND"), "404");
});
await run("an unknown field is 422 UNKNOWN_FIELD_NAME", async () => {
  await expectError(base("Issues").create({ Severity: "High" }), httpError(422, "UNKNOWN_FIELD_NAME"), "422");
});
await run("a bad select option is a 422", async () => {
  await expectError(
    base("Issues").create({ "Linear ID": "ENG-130", Priority: "Whenever" }),
    (e) => e.statusCode === 422 && /INVALID/.test(e.error),
    "422",
  );
});
await run("a bad formula is 422 INVALID_FILTER_BY_FORMULA", async () => {
  await expectError(
    base("Intake").select({ filterByFormula: "{Status = " }).all(),
    httpError(422, "INVALID_FILTER_BY_FORMULA"),
    "formula",
  );
});
await run("a revoked token is 401", async () => {
  await addFaults("airtable", [{ service: "airtable", kind: "revoke_token" }]);
  await expectError(base("Intake").select().firstPage(), httpError(401), "401");
});
await run("a 429 is RATE_LIMIT_REACHED", async () => {
  await addFaults("airtable", [{ service: "airtable", kind: "rate_limit", retry_after: 1 }]);
  await expectError(base("Intake").select().firstPage(), httpError(429), "429");
});
report();
