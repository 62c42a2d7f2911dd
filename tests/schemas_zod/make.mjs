// The JSON Schemas zod v4's toJSONSchema produces for the schemas below, stored as test data
// (tests/schemas_zod/zod-v4-schemas.json, made with zod 4.6.7). To regenerate:
//   cd "$(mktemp -d)" && npm install zod@4 && cp <repo>/tests/schemas_zod/make.mjs . \
//     && node make.mjs > <repo>/tests/schemas_zod/zod-v4-schemas.json
import * as z from "zod";
const Base = { name: z.string().min(1).max(40) };
const Cat = z.object({ kind: z.literal("cat"), ...Base, lives: z.number().int().min(1).max(9) });
const Dog = z.object({ kind: z.literal("dog"), ...Base, good: z.boolean() });
const Fish = z.object({ kind: z.literal("fish"), ...Base, water: z.enum(["salt", "fresh"]) });
const Pet = z.discriminatedUnion("kind", [Cat, Dog, Fish]);
const Category = z.object({ name: z.string(), get subcategories() { return z.array(Category).max(3); } });
const schemas = {
  record_string_keys: z.object({ scores: z.record(z.string(), z.number().min(0).max(100)) }),
  record_enum_keys: z.object({ stock: z.record(z.enum(["apples", "pears", "plums"]), z.number().int().nonnegative()) }),
  record_partial_enum_keys: z.object({ prices: z.partialRecord(z.enum(["eur", "usd"]), z.number().positive()) }),
  record_regex_keys: z.object({ headers: z.record(z.string().regex(/^x-[a-z]+$/), z.string()) }),
  discriminated_union: z.object({ pets: z.array(Pet).min(3).max(6) }),
  union_nullable: z.object({ note: z.string().nullable(), when: z.union([z.iso.datetime(), z.number().int()]), tags: z.array(z.string()).optional() }),
  formats: z.object({ id: z.uuid(), email: z.email(), site: z.url(), day: z.iso.date(), at: z.iso.datetime(), ip: z.ipv4(), code: z.string().regex(/^[A-Z]{3}-\d{4}$/) }),
  bounds: z.object({ qty: z.number().int().min(1).max(5), ratio: z.number().gt(0).lt(1), step: z.number().multipleOf(0.25).min(1).max(3), items: z.array(z.string().length(3)).min(2).max(2) }),
  recursive: z.object({ root: Category }),
  tuple_and_literal: z.object({ point: z.tuple([z.number(), z.number()]), status: z.literal(["open", "closed"]), flag: z.literal(true) }),
  unicode_pattern: z.object({ word: z.string().regex(/^\p{L}+$/u), tag: z.string().regex(/^\p{Lu}\p{Ll}*$/u) }),
  intersection: z.object({ both: z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() })) }),
  not_and_catchall: z.object({ extra: z.object({ id: z.string() }).catchall(z.number()) }),
};
const out = {};
for (const [name, schema] of Object.entries(schemas)) {
  out[name] = z.toJSONSchema(schema);
}
console.log(JSON.stringify(out, null, 2));
