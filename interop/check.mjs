// The router's TypeScript SDK (@openrouter/sdk) and the Vercel AI SDK (ai + @openrouter/ai-sdk-provider)
// against a running chat-emulator. Usage: node check.mjs http://127.0.0.1:PORT
// Prints one line per check ("ok" or "FAIL") and exits 1 if any failed.
import assert from "node:assert/strict";
import { OpenRouter } from "@openrouter/sdk";
import * as sdkErrors from "@openrouter/sdk/models/errors";
import { createOpenRouter } from "@openrouter/ai-sdk-provider";
import { generateText, jsonSchema, streamText, tool } from "ai";

const base = process.argv[2];
if (!base) throw new Error("usage: node check.mjs http://127.0.0.1:PORT");
const MODEL = "openai/gpt-4o";
const USER = [{ role: "user", content: "What is the weather in Paris?" }];
const WEATHER = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    },
  },
};
const sdk = new OpenRouter({ apiKey: "sk-or-test", serverURL: `${base}/api/v1`, retryConfig: { strategy: "none" } });

async function admin(method, path, body) {
  const response = await fetch(`${base}/_emulator/${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `admin ${method} ${path}: ${response.status}`);
}
const reset = () => admin("POST", "reset");
const addScenario = (scenario) => admin("POST", "scenarios", scenario);

let failed = 0;
async function check(name, fn) {
  try {
    await reset();
    await fn();
    console.log(`ok   ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${name}: ${error?.stack ?? error}`);
  }
}

// --- @openrouter/sdk ---------------------------------------------------------------------------
// SDK 1.3: the body goes in `chatRequest` (camelCase keys, as the SDK's models name them).
async function send(chatRequest) {
  return sdk.chat.send({ chatRequest });
}

await check("sdk chat.send JSON", async () => {
  const result = await send({ model: MODEL, messages: USER });
  assert.equal(typeof result.choices[0].message.content, "string");
  assert.equal(result.choices[0].finishReason, "stop");
  assert.equal(result.systemFingerprint, null);
  assert.equal(result.usage.isByok, false);
});

await check("sdk chat.send stream", async () => {
  await addScenario({ name: "hello", reply: { content: "Hello from the emulator." } });
  const stream = await send({ model: MODEL, messages: USER, stream: true });
  let text = "";
  let last;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    last = chunk;
  }
  assert.equal(text, "Hello from the emulator.");
  assert.ok(last.usage.completionTokens > 0);
});

await check("sdk tool call", async () => {
  const result = await send({ model: MODEL, messages: USER, tools: [WEATHER], toolChoice: "required" });
  const call = result.choices[0].message.toolCalls[0];
  assert.equal(result.choices[0].finishReason, "tool_calls");
  assert.equal(call.function.name, "get_weather");
  assert.equal(typeof JSON.parse(call.function.arguments).city, "string");
});

await check("sdk structured output", async () => {
  const schema = {
    type: "object",
    properties: { city: { type: "string" }, celsius: { type: "integer" } },
    required: ["city", "celsius"],
    additionalProperties: false,
  };
  const result = await send({
    model: MODEL,
    messages: USER,
    responseFormat: { type: "json_schema", jsonSchema: { name: "weather", strict: true, schema } },
  });
  const value = JSON.parse(result.choices[0].message.content);
  assert.deepEqual(Object.keys(value).sort(), ["celsius", "city"]);
  assert.ok(Number.isInteger(value.celsius));
});

const STATUSES = {
  400: "BadRequestResponseError",
  401: "UnauthorizedResponseError",
  402: "PaymentRequiredResponseError",
  403: "ForbiddenResponseError",
  404: "NotFoundResponseError",
  408: "RequestTimeoutResponseError",
  413: "PayloadTooLargeResponseError",
  429: "TooManyRequestsResponseError",
  500: "InternalServerResponseError",
  502: "BadGatewayResponseError",
  503: "ServiceUnavailableResponseError",
};
for (const [status, className] of Object.entries(STATUSES)) {
  await check(`sdk error ${status} -> ${className}`, async () => {
    await addScenario({ name: "fail", error: { status: Number(status), message: `scripted ${status}` } });
    await assert.rejects(send({ model: MODEL, messages: USER }), (error) => {
      assert.ok(error instanceof sdkErrors[className], `got ${error?.constructor?.name}: ${error}`);
      assert.equal(error.error.code, Number(status));
      assert.equal(error.error.message, `scripted ${status}`);
      return true;
    });
  });
}

await check("sdk in-band stream error", async () => {
  await addScenario({ name: "dies", reply: { content: "a b c d", stream: { error_after: 2, error: "provider_error" } } });
  const stream = await send({ model: MODEL, messages: USER, stream: true });
  let last;
  for await (const chunk of stream) last = chunk;
  assert.equal(last.error.code, 502);
  assert.equal(last.error.metadata.errorType, "provider_unavailable");
  assert.equal(last.choices[0].finishReason, "error");
});

// --- Vercel AI SDK -------------------------------------------------------------------------------
const provider = createOpenRouter({ apiKey: "sk-or-test", baseURL: `${base}/api/v1` });

await check("ai-sdk streamText", async () => {
  await addScenario({ name: "hello", reply: { content: "Streaming through the AI SDK." } });
  const result = streamText({ model: provider(MODEL), prompt: "Say something." });
  let text = "";
  for await (const delta of result.textStream) text += delta;
  assert.equal(text, "Streaming through the AI SDK.");
  const usage = await result.usage;
  assert.ok(usage.outputTokens > 0);
});

await check("ai-sdk tool call (stream)", async () => {
  await addScenario({
    name: "weather",
    reply: { tool_calls: [{ name: "get_weather", arguments: { city: "Paris" } }] },
  });
  const result = streamText({
    model: provider(MODEL),
    prompt: "Weather in Paris?",
    tools: {
      get_weather: tool({
        description: "Current weather",
        inputSchema: jsonSchema(WEATHER.function.parameters),
      }),
    },
  });
  const calls = await result.toolCalls;
  assert.equal(calls.length, 1);
  assert.equal(calls[0].toolName, "get_weather");
  assert.deepEqual(calls[0].input, { city: "Paris" });
  assert.equal(await result.finishReason, "tool-calls");
});

await check("ai-sdk generateText", async () => {
  await addScenario({ name: "hello", reply: { content: "Plain JSON reply." } });
  const result = await generateText({ model: provider(MODEL), prompt: "Say something." });
  assert.equal(result.text, "Plain JSON reply.");
});

console.log(failed ? `${failed} failed` : "all checks passed");
process.exit(failed ? 1 : 0);
