// @mondaydotcomorg/api and monday-sdk-js, unmodified, against the sandbox's Monday.
import mondayApi from "@mondaydotcomorg/api";
import { addFaults, check, expect, expectError, report, sandboxUrl } from "./harness.mjs";

const { ApiClient, ClientError } = mondayApi;
const endpoint = `${sandboxUrl("monday")}/v2`;
const api = new ApiClient({ token: "monday-conformance", endpoint });
const run = (name, fn) => check("monday", "@mondaydotcomorg/api", name, fn);
const runSdk = (name, fn) => check("monday", "monday-sdk-js", name, fn);
const s = {};
const codeOf = (e) => e?.response?.errors?.[0]?.extensions?.code;

await run("board, columns and groups", async () => {
  const data = await api.request(`query { boards(limit: 5) { id name
    columns { id title type } groups { id title } } }`);
  s.board = data.boards[0];
  s.status = s.board.columns.find((c) => c.type === "status");
  s.date = s.board.columns.find((c) => c.type === "date");
  s.text = s.board.columns.find((c) => c.type === "text");
  expect(s.status && s.date, "the board has a status and a date column");
});
await run("operations.getMeOp", async () => {
  const data = await api.operations.getMeOp();
  expect(data.me && data.me.id, "me");
});
await run("operations.getBoardGroupsOp", async () => {
  const data = await api.operations.getBoardGroupsOp({ ids: [s.board.id] });
  expect(data.boards[0].groups.length > 0, "groups");
});
await run("operations.getBoardItemsOp", async () => {
  const data = await api.operations.getBoardItemsOp({ ids: [s.board.id] });
  expect(data.boards[0].items_page.items.length > 0, "items");
  s.item = data.boards[0].items_page.items[0];
});
await run("items_page and next_items_page paginate", async () => {
  const first = await api.request(
    `query($b: [ID!]) { boards(ids: $b) { items_page(limit: 5) { cursor items { id } } } }`,
    { b: [s.board.id] },
  );
  let page = first.boards[0].items_page;
  const ids = page.items.map((i) => i.id);
  while (page.cursor) {
    const next = await api.request(
      `query($c: String!) { next_items_page(cursor: $c, limit: 5) { cursor items { id } } }`,
      { c: page.cursor },
    );
    page = next.next_items_page;
    ids.push(...page.items.map((i) => i.id));
  }
  expect(new Set(ids).size === ids.length && ids.length > 5, `${ids.length} distinct items`);
});
await run("items_page with query_params filter", async () => {
  const data = await api.request(
    `query($b: [ID!], $q: ItemsQuery) { boards(ids: $b) { items_page(limit: 50, query_params: $q) {
      items { id column_values(ids: ["${s.status.id}"]) { text } } } } }`,
    { b: [s.board.id], q: { rules: [{ column_id: s.status.id, compare_value: [1], operator: "any_of" }] } },
  );
  expect(Array.isArray(data.boards[0].items_page.items), "filtered page");
});
await run("operations.createItemOp", async () => {
  const data = await api.operations.createItemOp({
    boardId: s.board.id,
    groupId: s.board.groups[0].id,
    itemName: "Checkout fails on Safari",
  });
  s.created = data.create_item;
  expect(s.created.name === "Checkout fails on Safari", "created");
});
await run("operations.changeColumnValueOp", async () => {
  await api.operations.changeColumnValueOp({
    boardId: s.board.id,
    itemId: s.created.id,
    columnId: s.status.id,
    value: JSON.stringify({ label: "Done" }),
  });
  const data = await api.request(`query { items(ids: [${s.created.id}]) { column_values(ids: ["${s.status.id}"]) { text } } }`);
  expect(data.items[0].column_values[0].text === "Done", `status ${data.items[0].column_values[0].text}`);
});
await run("operations.changeSimpleColumnValueOp", async () => {
  await api.operations.changeSimpleColumnValueOp({
    boardId: s.board.id,
    itemId: s.created.id,
    columnId: s.date.id,
    value: "2026-08-14",
  });
  const data = await api.request(`query { items(ids: [${s.created.id}]) { column_values(ids: ["${s.date.id}"]) { text } } }`);
  expect(data.items[0].column_values[0].text.startsWith("2026-08-14"), "date written");
});
await run("operations.changeMultipleColumnValuesOp", async () => {
  const data = await api.operations.changeMultipleColumnValuesOp({
    boardId: s.board.id,
    itemId: s.created.id,
    columnValues: JSON.stringify({ [s.status.id]: { label: "Stuck" } }),
  });
  expect(data.change_multiple_column_values.id === s.created.id, "changed");
});
await run("create_update and read it back", async () => {
  const data = await api.request(
    `mutation($i: ID!, $b: String!) { create_update(item_id: $i, body: $b) { id body creator { id } } }`,
    { i: s.created.id, b: "Seen on <b>17.2</b>" },
  );
  const listed = await api.request(`query { items(ids: [${s.created.id}]) { updates { id body } } }`);
  expect(listed.items[0].updates.some((u) => u.id === data.create_update.id), "listed on the item");
});
await run("complexity field", async () => {
  const data = await api.request(`query { complexity { before after query reset_in_x_seconds } me { id } }`);
  expect(data.complexity.query > 0, "complexity reported");
});
await run("a bad status label is ColumnValueException", async () => {
  const error = await expectError(
    api.operations.changeColumnValueOp({
      boardId: s.board.id, itemId: s.created.id, columnId: s.status.id,
      value: JSON.stringify({ label: "No such label" }),
    }),
    (e) => e instanceof ClientError,
    "bad label",
  );
  expect(codeOf(error) === "ColumnValueException", `code ${codeOf(error)}`);
});
await run("an unknown item is InvalidItemIdException", async () => {
  const error = await expectError(
    api.operations.changeSimpleColumnValueOp({
      boardId: s.board.id, itemId: "1", columnId: s.status.id, value: "Done",
    }),
    (e) => e instanceof ClientError,
    "unknown item",
  );
  expect(codeOf(error) === "InvalidItemIdException", `code ${codeOf(error)}`);
});
await run("a query above 5,000,000 points is refused", async () => {
  const heavy = `query { boards(limit: 1000) { items_page(limit: 500) { items { id name
    column_values { id text value } } } } }`;
  const error = await expectError(api.request(heavy), (e) => e instanceof ClientError, "heavy");
  expect(/exceeds max complexity/.test(error.message), error.message.slice(0, 200));
});
await run("complexity budget exhausted is COMPLEXITY_BUDGET_EXHAUSTED", async () => {
  await addFaults("monday", [{ service: "monday", kind: "rate_limit", retry_after: 9 }]);
  const error = await expectError(api.request(`query { me { id } }`), (e) => e instanceof ClientError, "limited");
  expect(error.response.status === 429 && codeOf(error) === "COMPLEXITY_BUDGET_EXHAUSTED", codeOf(error));
});
await run("revoked token is 401", async () => {
  await addFaults("monday", [{ service: "monday", kind: "revoke_token" }]);
  const error = await expectError(api.request(`query { me { id } }`), (e) => e instanceof ClientError, "401");
  expect(error.response.status === 401, `status ${error.response.status}`);
});

// monday-sdk-js has no URL option; in development it reads the host from the environment.
process.env.NODE_ENV = "development";
const root = new URL(sandboxUrl("monday"));
process.env.MONDAY_COM_PROTOCOL = root.protocol.replace(":", "");
process.env.MONDAY_SUBDOMAIN_API = "";
process.env.MONDAY_COM_DOMAIN = root.host;
const { default: mondaySdk } = await import("monday-sdk-js");
const sdk = mondaySdk();
sdk.setToken("monday-conformance");
sdk.setApiVersion("2025-10");
await runSdk("api() reads boards", async () => {
  const result = await sdk.api(`query { boards(limit: 1) { id name } }`);
  expect(result.data.boards.length === 1, "a board");
});
await runSdk("api() writes with variables", async () => {
  const result = await sdk.api(
    `mutation($b: ID!, $n: String!) { create_item(board_id: $b, item_name: $n) { id } }`,
    { variables: { b: s.board.id, n: "From monday-sdk-js" } },
  );
  expect(result.data.create_item.id, "created");
});
await runSdk("a 504 takes the timeout branch", async () => {
  await addFaults("monday", [{ service: "monday", kind: "http_error", status: 504 }]);
  await expectError(
    sdk.api(`query { me { id } }`),
    (e) => e.message === "Received timeout from monday.com's GraphQL API",
    "504",
  );
});
await runSdk("a 500 answers JSON errors", async () => {
  await addFaults("monday", [{ service: "monday", kind: "http_error", status: 500 }]);
  let outcome;
  try {
    outcome = await sdk.api(`query { me { id } }`);
  } catch (error) {
    outcome = error;
  }
  expect(!(outcome instanceof Error) || /errors/.test(outcome.message), `${outcome}`);
});
report();
