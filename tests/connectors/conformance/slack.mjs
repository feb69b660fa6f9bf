// @slack/web-api, unmodified, against the sandbox's Slack Web API.
import { ErrorCode, WebClient } from "@slack/web-api";
import { addFaults, check, expect, expectError, report, sandboxUrl } from "./harness.mjs";

const slackApiUrl = `${sandboxUrl("slack")}/`;
const options = { slackApiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } };
const web = new WebClient("xoxb-conformance", options);
const run = (name, fn) => check("slack", "@slack/web-api", name, fn);
const s = {};
const platform = (code) => (e) => e.code === ErrorCode.PlatformError && e.data?.error === code;

await run("auth.test", async () => {
  const me = await web.auth.test();
  expect(me.ok && me.user_id, "the bot's identity");
});
await run("conversations.list paginates", async () => {
  const names = [];
  for await (const page of web.paginate("conversations.list", { limit: 2 })) {
    names.push(...page.channels.map((c) => c.name));
  }
  expect(names.includes("triage") && new Set(names).size === names.length, names.join(","));
});
await run("conversations.info", async () => {
  const list = await web.conversations.list({ limit: 100 });
  s.channel = list.channels.find((c) => c.name === "triage").id;
  const info = await web.conversations.info({ channel: s.channel });
  expect(info.channel.name === "triage", "triage");
});
await run("chat.postMessage with blocks and metadata", async () => {
  const posted = await web.chat.postMessage({
    channel: "#triage",
    text: "ENG-101 triaged",
    blocks: [{ type: "section", text: { type: "mrkdwn", text: "*ENG-101* triaged" } }],
    metadata: { event_type: "triage", event_payload: { issue: "ENG-101" } },
  });
  expect(posted.ok && posted.channel === s.channel && posted.ts, "posted to #triage");
  s.ts = posted.ts;
});
await run("thread reply and conversations.replies", async () => {
  await web.chat.postMessage({ channel: s.channel, text: "on it", thread_ts: s.ts });
  const thread = await web.conversations.replies({ channel: s.channel, ts: s.ts });
  expect(thread.messages.length === 2 && thread.messages[1].text === "on it", "two messages");
});
await run("chat.update", async () => {
  const updated = await web.chat.update({ channel: s.channel, ts: s.ts, text: "ENG-101 done" });
  expect(updated.ok && updated.text === "ENG-101 done", "updated");
});
await run("conversations.history", async () => {
  const history = await web.conversations.history({ channel: s.channel, limit: 10 });
  expect(history.messages.some((m) => m.ts === s.ts), "the post is in the history");
});
await run("chat.getPermalink and chat.postEphemeral", async () => {
  const link = await web.chat.getPermalink({ channel: s.channel, message_ts: s.ts });
  expect(link.permalink, "permalink");
  const users = await web.users.list({ limit: 5 });
  s.user = users.members.find((u) => !u.is_bot && !u.deleted);
  const eph = await web.chat.postEphemeral({ channel: s.channel, user: s.user.id, text: "psst" });
  expect(eph.ok && eph.message_ts, "ephemeral");
});
await run("users.list paginates, users.info, users.lookupByEmail", async () => {
  let count = 0;
  for await (const page of web.paginate("users.list", { limit: 3 })) count += page.members.length;
  const info = await web.users.info({ user: s.user.id });
  const found = await web.users.lookupByEmail({ email: info.user.profile.email });
  expect(count > 3 && found.user.id === s.user.id, "users");
});
await run("chat.delete", async () => {
  const deleted = await web.chat.delete({ channel: s.channel, ts: s.ts });
  expect(deleted.ok, "deleted");
});
await run("an unknown channel is channel_not_found", async () => {
  await expectError(
    web.chat.postMessage({ channel: "#no-such-channel", text: "x" }),
    platform("channel_not_found"),
    "channel_not_found",
  );
});
await run("an empty message is no_text", async () => {
  await expectError(web.chat.postMessage({ channel: s.channel }), platform("no_text"), "no_text");
});
await run("a revoked token is invalid_auth or token_revoked", async () => {
  await addFaults("slack", [{ service: "slack", kind: "revoke_token" }]);
  await expectError(
    web.auth.test(),
    (e) => e.code === ErrorCode.PlatformError && /invalid_auth|token_revoked/.test(e.data?.error),
    "revoked",
  );
});
await run("a 429 is a RateLimitedError with retryAfter", async () => {
  await addFaults("slack", [{ service: "slack", kind: "rate_limit", retry_after: 7 }]);
  await expectError(
    web.chat.postMessage({ channel: s.channel, text: "x" }),
    (e) => e.code === ErrorCode.RateLimitedError && e.retryAfter === 7,
    "429",
  );
});
await run("a 5xx is an HTTPError", async () => {
  await addFaults("slack", [{ service: "slack", kind: "http_error", status: 503 }]);
  await expectError(
    web.auth.test(),
    (e) => e.code === ErrorCode.HTTPError && e.statusCode === 503,
    "503",
  );
});
report();
