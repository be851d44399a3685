// The engine's JSON object, as every reader of the oVirt API takes it (its own file: client.ts
// and the list splitter it uses both name it).
export type Json = Record<string, unknown>;
