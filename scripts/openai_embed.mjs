// The official `openai` npm client against bert-serve's /v1/embeddings: prints each vector as one
// line of space-separated floats, for every encoding the client can ask for.
// usage: OPENAI_MODULE=/path/to/node_modules/openai node scripts/openai_embed.mjs PORT float|base64|default TEXT...
const mod = await import(process.env.OPENAI_MODULE ? `${process.env.OPENAI_MODULE}/index.mjs` : 'openai');
const OpenAI = mod.default;
const [port, format, ...texts] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: process.env.OPENAI_API_KEY || 'none' });
const req = { model: 'bert', input: texts.length === 1 ? texts[0] : texts };
if (format !== 'default') req.encoding_format = format;
const res = await client.embeddings.create(req);
for (const d of res.data) {
  let v = d.embedding;
  if (typeof v === 'string') { // base64 asked for explicitly: the client hands it over as it came
    const b = Buffer.from(v, 'base64');
    v = Array.from(new Float32Array(b.buffer, b.byteOffset, b.length / 4));
  }
  console.log(v.join(' '));
}
console.error(`openai client (${format}): ${res.data.length} embeddings, usage ${JSON.stringify(res.usage)}`);
