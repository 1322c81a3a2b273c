/**
 * Generates data/sample-agent.jsonl: a small, deterministic LLM-agent workload (Llama Stack
 * agent turns with shield, inference, tool and RAG spans, token metrics and logs).
 *
 *   node --import tsx data/sample-agent.gen.ts > data/sample-agent.jsonl
 *
 * Each line is a Llama Stack telemetry event whose `timestamp` is replaced by `offset_ms`:
 * milliseconds relative to the moment the file is loaded (negative = in the past).
 * `strata load` turns it into a timestamp, so the data always looks fresh.
 */

let seed = 20240601;
function random(): number {
  // mulberry32: tiny, seeded, good enough for a sample.
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const between = (lo: number, hi: number) => lo + random() * (hi - lo);
const int = (lo: number, hi: number) => Math.floor(between(lo, hi + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');

type Primitive = string | number | boolean;
interface Line { offset_ms: number; [key: string]: unknown }
const lines: Line[] = [];

const MODELS = [
  { model_id: 'meta-llama/Llama-3.1-8B-Instruct', provider_id: 'ollama', msPerToken: 9 },
  { model_id: 'meta-llama/Llama-3.3-70B-Instruct', provider_id: 'fireworks', msPerToken: 22 },
] as const;
const AGENTS = [
  { agent_id: 'travel-assistant', tools: ['web_search', 'knowledge_search'], model: 1 },
  { agent_id: 'code-helper', tools: ['code_interpreter', 'knowledge_search'], model: 0 },
  { agent_id: 'support-bot', tools: ['knowledge_search'], model: 0 },
] as const;
const PROMPTS: Record<string, string[]> = {
  'travel-assistant': ['Find me a flight to Lisbon next Friday', 'What is the weather in Kyoto in April?', 'Plan a 3-day trip to Oslo', 'Is my hotel near the train station?'],
  'code-helper': ['Why does my pandas merge drop rows?', 'Write a function to dedupe a list', 'Plot the CSV I uploaded', 'Explain this stack trace'],
  'support-bot': ['How do I reset my password?', 'My invoice is wrong', 'Cancel my subscription', 'Where is my order #4411?'],
};

function spanStart(at: number, traceId: string, spanId: string, name: string, parent: string | undefined, attributes: Record<string, Primitive>): void {
  lines.push({
    type: 'structured_log', trace_id: traceId, span_id: spanId, offset_ms: at,
    payload: parent ? { type: 'span_start', name, parent_span_id: parent } : { type: 'span_start', name },
    attributes,
  });
}
function spanEnd(at: number, traceId: string, spanId: string, status: 'ok' | 'error', attributes?: Record<string, Primitive>): void {
  lines.push({ type: 'structured_log', trace_id: traceId, span_id: spanId, offset_ms: at, payload: { type: 'span_end', status }, ...(attributes ? { attributes } : {}) });
}
function log(at: number, traceId: string, spanId: string, severity: string, message: string, attributes?: Record<string, Primitive>): void {
  lines.push({ type: 'unstructured_log', trace_id: traceId, span_id: spanId, offset_ms: at, severity, message, ...(attributes ? { attributes } : {}) });
}
function metric(at: number, traceId: string, spanId: string, name: string, value: number, unit: string, attributes: Record<string, Primitive>): void {
  lines.push({ type: 'metric', trace_id: traceId, span_id: spanId, offset_ms: at, metric: name, value, unit, attributes });
}

/** An inference span with its token metrics and a log line; returns its end time. */
function inference(at: number, traceId: string, parent: string, modelIndex: number, promptTokens: number, step: number): number {
  const model = MODELS[modelIndex]!;
  const spanId = hex(16);
  const completion = int(40, 420);
  const duration = 120 + completion * model.msPerToken * between(0.8, 1.3);
  const labels = { model_id: model.model_id, provider_id: model.provider_id };
  spanStart(at, traceId, spanId, 'inference', parent, { ...labels, step, stream: true });
  const end = at + duration;
  log(at + duration * 0.1, traceId, spanId, 'info', `first token after ${Math.round(duration * 0.1)} ms`, labels);
  metric(end, traceId, spanId, 'prompt_tokens', promptTokens, 'tokens', labels);
  metric(end, traceId, spanId, 'completion_tokens', completion, 'tokens', labels);
  metric(end, traceId, spanId, 'total_tokens', promptTokens + completion, 'tokens', labels);
  spanEnd(end, traceId, spanId, 'ok', { prompt_tokens: promptTokens, completion_tokens: completion });
  return end;
}

function shield(at: number, traceId: string, parent: string, direction: 'input' | 'output'): number {
  const spanId = hex(16);
  const end = at + between(15, 60);
  spanStart(at, traceId, spanId, 'run_shield', parent, { shield_id: 'meta-llama/Llama-Guard-3-1B', direction });
  spanEnd(end, traceId, spanId, 'ok', { violation: false });
  return end;
}

/** A tool call; knowledge_search nests a RAG query and a vector-store lookup. */
function tool(at: number, traceId: string, parent: string, toolName: string, fail: boolean): { end: number; ok: boolean } {
  const spanId = hex(16);
  spanStart(at, traceId, spanId, 'tool_execution', parent, { tool_name: toolName, call_id: `call_${hex(8)}` });
  let t = at + between(2, 8);
  if (toolName === 'knowledge_search') {
    const rag = hex(16);
    spanStart(t, traceId, rag, 'rag_tool.query', spanId, { vector_db_ids: 'docs-v2', max_chunks: 5 });
    const vec = hex(16);
    const vt = t + between(1, 4);
    spanStart(vt, traceId, vec, 'vector_io.query_chunks', rag, { vector_db_id: 'docs-v2', provider_id: 'faiss' });
    const chunks = int(2, 5);
    const vend = vt + between(8, 60);
    spanEnd(vend, traceId, vec, 'ok', { chunks_returned: chunks });
    t = vend + between(5, 30);
    spanEnd(t, traceId, rag, 'ok');
    log(t, traceId, spanId, 'info', `retrieved ${chunks} chunks from docs-v2`);
  } else {
    t += toolName === 'web_search' ? between(300, 1400) : between(150, 900);
  }
  if (fail) {
    const end = t + (toolName === 'web_search' ? 1800 : 200);
    log(end - 1, traceId, spanId, 'error', `${toolName} failed: ${toolName === 'web_search' ? 'upstream timed out after 1.8s' : toolName === 'code_interpreter' ? 'kernel died' : 'vector store unavailable'}`, { tool_name: toolName });
    spanEnd(end, traceId, spanId, 'error', { error: true });
    metric(end, traceId, spanId, 'tool_latency_ms', end - at, 'ms', { tool_name: toolName });
    return { end, ok: false };
  }
  metric(t, traceId, spanId, 'tool_latency_ms', t - at, 'ms', { tool_name: toolName });
  spanEnd(t, traceId, spanId, 'ok');
  return { end: t, ok: true };
}

const SESSIONS = 8;
const TURNS = 40;
const WINDOW_MS = 55 * 60 * 1000;
const sessions = Array.from({ length: SESSIONS }, (_, i) => ({ session_id: `sess-${hex(8)}`, agent: AGENTS[i % AGENTS.length]!, turns: 0 }));

for (let i = 0; i < TURNS; i++) {
  const session = sessions[i % SESSIONS]!;
  const agent = session.agent;
  const traceId = hex(32);
  const root = hex(16);
  // Turns spread over the last 55 minutes, oldest first, the newest ~40 s ago.
  const start = -WINDOW_MS + (i / (TURNS - 1)) * (WINDOW_MS - 40_000) + between(-20_000, 20_000);
  const turnId = `turn-${hex(6)}`;
  spanStart(start, traceId, root, 'create_and_execute_turn', undefined, {
    __root__: true, session_id: session.session_id, turn_id: turnId, agent_id: agent.agent_id,
    turn_index: session.turns++, input: pick(PROMPTS[agent.agent_id]!),
  });
  let t = shield(start + between(1, 5), traceId, root, 'input');
  const prompt = int(180, 2400);
  t = inference(t + between(1, 5), traceId, root, agent.model, prompt, 1);
  let turnOk = true;
  if (random() < 0.7) {
    const fail = random() < 0.15;
    const result = tool(t + between(1, 5), traceId, root, pick(agent.tools), fail);
    t = result.end;
    if (!result.ok && random() < 0.5) turnOk = false;
    if (turnOk) t = inference(t + between(1, 5), traceId, root, agent.model, prompt + int(100, 900), 2);
  }
  if (turnOk) t = shield(t + between(1, 3), traceId, root, 'output');
  else log(t + 1, traceId, root, 'warn', 'turn aborted after tool failure', { session_id: session.session_id });
  spanEnd(t + between(1, 4), traceId, root, turnOk ? 'ok' : 'error', { steps: turnOk ? 4 : 2 });
}

lines.sort((a, b) => a.offset_ms - b.offset_ms);
for (const line of lines) {
  line.offset_ms = Math.round(line.offset_ms * 1000) / 1000;
  // offset_ms first, so the file reads naturally.
  const { offset_ms, ...rest } = line;
  process.stdout.write(JSON.stringify({ offset_ms, ...rest }) + '\n');
}
