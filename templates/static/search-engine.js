/* The site's search in the browser, from the static index (jixiao/search/static_index.py):
   the same answers as the search server's /api/search (jixiao/search/engine.py and
   whoosh_search.py), ported function by function with the same names, so that a change
   to one is easy to carry to the other.  tests/test_static_search.py runs this file under
   Node.js against the server, query by query.

     const engine = await JixiaoSearch.open(load);   // load(path) → Promise<ArrayBuffer|null>
     const doc = await engine.search("q=燃气&year=2023");   // the /api/search document

   Sets of projects are BigInts used as bitsets (bit p = the project at site position p),
   as the server uses Python ints. */
(function (root) {
  "use strict";

  // ── analysis (jixiao/search/analysis.py) ───────────────────────────────────
  const SEPARATOR = "\x1f", SHINGLE = "\x1e", GAP_POSITIONS = 16, MAX_SHINGLE = 4;
  const CJK = "\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\u{20000}-\\u{3134f}\\u3007";
  // what Python's str.isspace() calls white space (\s of a str pattern)
  const SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  const TOKEN = new RegExp(`(?<cjk>[${CJK}]+)|(?<word>[0-9a-z]+)|(?<sym>>=|<=|[^${SPACE}0-9a-z${CJK}])|(?<sep>${SEPARATOR})`, "gu");
  const SYMBOL = /^[\p{Sm}\p{Sc}%‰°#]$/u;
  const FOLD_SYMBOL = { ">=": "≥", "<=": "≤" };
  const CJK_RUN = new RegExp(`^[${CJK}]+$`, "u");
  const CJK_CHAR = new RegExp(`^[${CJK}]`, "u");
  const WORD = /^[0-9a-z]+$/;
  const SPLIT = new RegExp(`[${SPACE}]+`, "u");

  // traditional → simplified, loaded as needed (Generation.folding): the query's blocks,
  // and each document's own pairs
  const T2S = new Map();
  const FOLDED = new Map();
  function addPairs(pairs) {
    const cs = chars(pairs);
    for (let i = 0; i + 1 < cs.length; i += 2) T2S.set(cs[i], cs[i + 1]);
    FOLDED.clear();
  }
  function foldChar(ch) {
    let f = FOLDED.get(ch);
    if (f === undefined) {
      f = "";
      for (const c of ch.normalize("NFKC")) f += (T2S.get(c) || c).toLowerCase();
      FOLDED.set(ch, f);
    }
    return f;
  }
  function fold(text) {
    let out = "";
    for (const ch of text) out += foldChar(ch);
    return out;
  }
  function foldWithOffsets(text) {
    let out = "";
    const origin = [];
    for (let i = 0; i < text.length;) {
      const cp = text.codePointAt(i), ch = String.fromCodePoint(cp);
      const f = foldChar(ch);
      out += f;
      for (let k = 0; k < f.length; k++) origin.push(i);
      i += ch.length;
    }
    origin.push(text.length);
    return [out, origin];
  }
  const isCjk = (s) => Boolean(s) && CJK_CHAR.test(s);
  const chars = (s) => Array.from(s);

  function* tokens(folded, withUnigrams = true) {
    let pos = 0;
    TOKEN.lastIndex = 0;
    let m;
    while ((m = TOKEN.exec(folded)) !== null) {
      const g = m.groups;
      if (g.cjk !== undefined) {
        const run = chars(g.cjk);
        let off = m.index;
        for (let i = 0; i < run.length; i++) {
          const next = i + 1 < run.length ? run[i + 1] : null;
          if (next !== null) yield { text: run[i] + next, pos, start: off, end: off + run[i].length + next.length };
          if (withUnigrams || next === null) yield { text: run[i], pos, start: off, end: off + run[i].length };
          off += run[i].length;
          pos += 1;
        }
      } else if (g.word !== undefined) {
        yield { text: g.word, pos, start: m.index, end: m.index + g.word.length };
        pos += 1;
      } else if (g.sym !== undefined) {
        const s = g.sym;
        if (s in FOLD_SYMBOL || SYMBOL.test(s)) {
          yield { text: FOLD_SYMBOL[s] || s, pos, start: m.index, end: m.index + s.length };
          pos += 1;
        }
      } else {
        pos += GAP_POSITIONS;
      }
    }
  }

  // What the static index looks up for a part's slots: [term, offset] pairs.  A symbol run
  // is one shingle; two or more pairs of Chinese characters in a row (a run of n ≥ 3
  // characters) are its n − 2 runs of three at consecutive offsets — they stand exactly
  // where the pairs do, and far less often; anything else is its slot at its offset.
  const isPair = (s) => { const cs = chars(s); return cs.length === 2 && cs.every(isCjk); };
  const isThree = (s) => { const cs = chars(s); return cs.length === 3 && cs.every(isCjk); };
  function lookups(slots) {
    const one = slots.length === 1 ? slots[0] : shingle(slots);
    if (one !== null) return [[one, 0]];
    const out = [];
    for (let i = 0; i < slots.length; i++) {
      const next = slots[i + 1];
      if (isPair(slots[i]) && next !== undefined && isPair(next) && chars(slots[i])[1] === chars(next)[0]) {
        out.push([slots[i] + chars(next)[1], i]);
        if (!(slots[i + 2] !== undefined && isPair(slots[i + 2]) && chars(next)[1] === chars(slots[i + 2])[0])) i++;
      } else out.push([slots[i], i]);
    }
    return out;
  }

  function shingle(slots) {
    if (slots.length > 1 && slots.length <= MAX_SHINGLE && !slots.some((s) => isCjk(s))) return slots.join(SHINGLE);
    return null;
  }

  function partSlots(part) {
    const toks = Array.from(tokens(part, false));
    const n = toks.length;
    if (n >= 2 && isCjk(toks[n - 1].text) && chars(toks[n - 1].text).length === 1 &&
        chars(toks[n - 2].text).length === 2 && toks[n - 2].pos + 1 === toks[n - 1].pos &&
        toks[n - 2].end === toks[n - 1].end) toks.pop();
    return toks.map((t) => t.text);
  }

  const slotKey = (slots) => slots.join("\x00");
  function parseQuery(q) {
    const parts = [], slots = [], seen = new Set();
    for (const part of fold(q).split(SPLIT)) {
      if (!part) continue;
      const s = partSlots(part);
      if (s.length && !seen.has(slotKey(s))) {
        seen.add(slotKey(s));
        parts.push(part);
        slots.push(s);
      }
    }
    return { text: q, parts, slots, empty: slots.length === 0, key: slots.map(slotKey).join("\x01") };
  }

  function findSpans(folded, slots, part) {
    const spans = [];
    if (part !== undefined && CJK_RUN.test(part)) {
      let i = folded.indexOf(part);
      while (i >= 0) {
        spans.push([i, i + part.length]);
        i = folded.indexOf(part, i + 1);
      }
      return spans;
    }
    if (part !== undefined && WORD.test(part)) {
      if (!folded.includes(part)) return [];
      const re = new RegExp(`(?<![0-9a-z])${part}(?![0-9a-z])`, "g");
      let m;
      while ((m = re.exec(folded)) !== null) spans.push([m.index, m.index + part.length]);
      return spans;
    }
    if (slots.some((s) => !folded.includes(s))) return [];
    const at = new Map();
    for (const t of tokens(folded)) {
      if (!at.has(t.pos)) at.set(t.pos, new Map());
      at.get(t.pos).set(t.text, t);
    }
    for (const [p, here] of at) {
      const first = here.get(slots[0]);
      if (!first) continue;
      let last = first, ok = true;
      for (let k = 1; k < slots.length; k++) {
        const tok = (at.get(p + k) || new Map()).get(slots[k]);
        if (!tok) { ok = false; break; }
        last = tok;
      }
      if (ok) spans.push([first.start, last.end]);
    }
    return spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  }
  const matches = (folded, slots, part) => findSpans(folded, slots, part).length > 0;

  // ── bitsets ────────────────────────────────────────────────────────────────
  const NIBBLE_BITS = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];
  function popcount(m) {
    const hex = m.toString(16);
    let c = 0;
    for (let i = 0; i < hex.length; i++) c += NIBBLE_BITS[parseInt(hex[i], 16)];
    return c;
  }
  function maskOf(positions) {
    if (!positions.length) return 0n;
    let top = 0;
    for (const p of positions) if (p > top) top = p;
    const words = new Uint32Array((top >>> 5) + 1);
    for (const p of positions) words[p >>> 5] |= 1 << (p & 31);
    let hex = "";
    for (let i = words.length - 1; i >= 0; i--) hex += words[i].toString(16).padStart(8, "0");
    return BigInt("0x" + hex);
  }
  function bytesOf(mask) {            // little-endian bytes of a mask
    const hex = mask.toString(16), n = (hex.length + 1) >> 1;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const end = hex.length - 2 * i;
      out[i] = parseInt(hex.slice(Math.max(0, end - 2), end), 16);
    }
    return out;
  }
  function bitsOf(mask) {             // set positions, lowest first
    const bytes = bytesOf(mask), out = [];
    for (let i = 0; i < bytes.length; i++) {
      let b = bytes[i];
      while (b) {
        const low = b & -b;
        out.push(i * 8 + 31 - Math.clz32(low));
        b ^= low;
      }
    }
    return out;
  }
  function has(mask) {                // a membership test over a mask, made once
    const bytes = bytesOf(mask);
    return (p) => ((bytes[p >>> 3] || 0) >> (p & 7)) & 1;
  }

  // ── the static generation (the server's whoosh_search.Generation) ─────────
  const K1 = 1.2, B = 0.75;
  const decoder = new TextDecoder();

  function fnv1a(bytes) {
    let h = 0x811c9dc5;
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    return h;
  }
  function varint(buf, at) {
    let v = 0, shift = 0, b;
    do {
      b = buf[at.i++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  }

  // every file of a generation is gzip-compressed (static_index.py): inflated here
  async function inflate(data) {
    const bytes = new Uint8Array(data);
    if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return data;
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  // the entries of the index's buckets (jixiao/search/static_index.py: binary layouts)
  const PARSE = {
    p(buf, at) {
      const field = varint(buf, at), ndocs = varint(buf, at);
      const docs = new Uint32Array(ndocs), tfs = new Uint32Array(ndocs);
      let doc = 0;
      for (let i = 0; i < ndocs; i++) {
        docs[i] = doc += varint(buf, at);
        tfs[i] = varint(buf, at);
      }
      return { field, docs, tfs };
    },
    q(buf, at) {                         // Δ-coded: decoded per document in positions()
      const field = varint(buf, at), nbytes = varint(buf, at);
      const body = buf.subarray(at.i, at.i + nbytes);
      at.i += nbytes;
      return { field, body };
    },
    n(buf, at) {
      const ndocs = varint(buf, at), where = new Map();
      let doc = 0;
      for (let k = 0; k < ndocs; k++) {
        doc += varint(buf, at);
        const count = varint(buf, at), offsets = [];
        for (let j = 0; j < count; j++) offsets.push(varint(buf, at));
        where.set(doc, offsets);
      }
      return where;
    },
  };

  PARSE.t = PARSE.p;                    // runs of three characters: the same layouts
  PARSE.r = PARSE.q;

  class Generation {
    constructor(load, folder, meta, columns, encoder) {
      this.load = load; this.folder = folder; this.meta = meta;
      const n = this.n = meta.n;
      this.nbytes = (n + 7) >> 3;
      this.all = n ? (1n << BigInt(n)) - 1n : 0n;
      this.fields = meta.fields;
      this.encoder = encoder;
      this.buckets = new Map();
      this.cache = new Map();
      const bytes = new Uint8Array(columns);
      const year = bytes.subarray(0, n), cats = bytes.subarray(n, 2 * n);
      this.lengths = meta.fields.map((_, k) => Float64Array.from(bytes.subarray((2 + k) * n, (3 + k) * n),
        (b) => meta.length_table[b]));
      const unitsAt = (2 + meta.fields.length) * n;
      const unitOf = new Uint16Array(n);
      for (let p = 0; p < n; p++) unitOf[p] = bytes[unitsAt + 2 * p] | (bytes[unitsAt + 2 * p + 1] << 8);
      this.units = meta.units;                    // with their folded names
      this.synonyms = meta.synonyms;
      const values = { year: new Map(), unit: new Map(), department: new Map(), category: new Map() };
      const push = (f, v, p) => { if (!values[f].has(v)) values[f].set(v, []); values[f].get(v).push(p); };
      this.labels = { unit: {}, department: {} };
      this.unitOf = []; this.yearOf = [];
      for (let p = 0; p < n; p++) {
        const u = meta.units[unitOf[p]], y = meta.years[year[p]];
        this.unitOf.push(u.id); this.yearOf.push(y);
        push("year", y, p); push("unit", u.id, p); push("department", u.department, p);
        for (let c = 0; c < meta.categories.length; c++) if (cats[p] >> c & 1) push("category", meta.categories[c], p);
        if (!(u.id in this.labels.unit)) this.labels.unit[u.id] = u.name;
        if (!(u.department in this.labels.department)) this.labels.department[u.department] = meta.departments[u.department];
      }
      this.masks = {};
      for (const f in values) {
        this.masks[f] = new Map();
        for (const [v, ps] of values[f]) this.masks[f].set(v, maskOf(ps));
      }
    }

    async file(path) {
      const data = await this.load(this.folder + path);
      return data && inflate(data);
    }

    async json(path) {
      const data = await this.file(path);
      return data && JSON.parse(decoder.decode(data));
    }

    // the fold pairs of the blocks the characters of ``text`` (and what they fold to) are in
    async folding(text) {
      this.blocks = this.blocks || new Map();
      for (let round = 0; round < 2; round++) {
        const wanted = new Set();
        for (const ch of text + fold(text)) {
          const block = ch.codePointAt(0) >> 8;
          if (!this.blocks.has(block) && this.meta.fold_blocks.includes(block)) wanted.add(block);
        }
        if (!wanted.size) return;
        await Promise.all([...wanted].map((block) => {
          const loaded = this.file(`f/${block.toString(16)}.txt`).then((data) => data && addPairs(decoder.decode(data)));
          this.blocks.set(block, loaded);
          return loaded;
        }));
      }
    }

    // the readings of the characters of ``text`` (h/<block>.txt), into readingMap
    async readingsOf(text) {
      this.readingMap = this.readingMap || new Map();
      this.readingBlocks = this.readingBlocks || new Map();
      const wanted = new Set();
      for (const ch of text) {
        const block = ch.codePointAt(0) >> 8;
        if (!this.readingBlocks.has(block) && this.meta.reading_blocks.includes(block)) wanted.add(block);
      }
      await Promise.all([...wanted].map((block) => {
        const loaded = this.file(`h/${block.toString(16)}.txt`).then((data) => {
          for (const line of decoder.decode(data).split("\n")) {
            if (line) this.readingMap.set(chars(line)[0], line.slice(line.indexOf(" ") + 1).split(","));
          }
        });
        this.readingBlocks.set(block, loaded);
        return loaded;
      }));
    }

    async names() {                   // the folded project names, one per line (suggestions)
      if (!this._names) this._names = this.file("names.txt").then((data) => ({ text: decoder.decode(data) }));
      return this._names;
    }

    async sorts() {
      if (!this._sorts) this._sorts = this.json("sort.json");
      return this._sorts;
    }

    // one bucket of a kind, parsed into key → [entries] (PARSE[kind]); fetched once
    async bucket(kind, b) {
      const key = kind + b;
      if (!this.buckets.has(key)) {
        this.buckets.set(key, this.file(`${kind}/${b.toString(16)}.bin`).then((data) => {
          const entries = new Map();
          if (!data) return entries;
          const buf = new Uint8Array(data), at = { i: 0 };
          while (at.i < buf.length) {
            const len = varint(buf, at);
            const k = decoder.decode(buf.subarray(at.i, at.i + len));
            at.i += len;
            if (!entries.has(k)) entries.set(k, []);
            entries.get(k).push(PARSE[kind](buf, at));
          }
          return entries;
        }));
      }
      return this.buckets.get(key);
    }

    bucketOf(text, count) { return fnv1a(this.encoder.encode(text)) % count; }

    // field index → {docs, tfs} of one term (site positions, frequencies); a run of three
    // Chinese characters is a term of its own (static_index.py: t/)
    async term(text) {
      const kind = isThree(text) ? "t" : "p";
      const entries = (await this.bucket(kind, this.bucketOf(text, this.meta.buckets))).get(text) || [];
      return new Map(entries.map((e) => [e.field, e]));
    }

    // site position → the positions of one term in field k (static_index.py: q/, r/)
    async positions(text, k) {
      const kind = isThree(text) ? "r" : "q";
      const entries = (await this.bucket(kind, this.bucketOf(text, this.meta.buckets))).get(text) || [];
      const entry = entries.find((e) => e.field === k);
      const docs = (await this.term(text)).get(k);
      const byDoc = new Map();
      if (!entry || !docs) return byDoc;
      const at = { i: 0 };
      for (let i = 0; i < docs.docs.length; i++) {
        const ps = new Uint32Array(docs.tfs[i]);
        let p = 0;
        for (let j = 0; j < ps.length; j++) ps[j] = p += varint(entry.body, at);
        byDoc.set(docs.docs[i], ps);
      }
      return byDoc;
    }

    // site position → where a character stands in that project's folded name
    async nameChar(ch) {
      const entries = await this.bucket("n", this.bucketOf(ch, this.meta.name_buckets));
      return (entries.get(ch) || [new Map()])[0];
    }

    // docnum → how often the slots stand at consecutive positions in field k (_run_hits)
    async runHits(k, slots) {
      const out = new Map();
      const units = lookups(slots);
      if (units.length === 1) {
        const e = (await this.term(units[0][0])).get(k);
        if (e) for (let i = 0; i < e.docs.length; i++) out.set(e.docs[i], e.tfs[i]);
        return out;
      }
      for (const [term] of units) if (!(await this.term(term)).has(k)) return out;
      const lists = await Promise.all(units.map(([term]) => this.positions(term, k)));
      const rarest = lists.reduce((a, b) => (b.size < a.size ? b : a));
      for (const d of rarest.keys()) {
        if (!lists.every((l) => l.has(d))) continue;
        let starts = null;
        for (let i = 0; i < lists.length && (starts === null || starts.size); i++) {
          const offset = units[i][1];
          const run = new Set(Array.from(lists[i].get(d), (p) => p - offset));
          starts = starts === null ? run : new Set([...starts].filter((s) => run.has(s)));
        }
        if (starts && starts.size) out.set(d, starts.size);
      }
      return out;
    }

    // (mask, positions in relevance order, units holding the query, mask found in name,
    // unit or department) — Generation.match / _match
    async match(query) {
      const key = query.key;
      if (!this.cache.has(key)) this.cache.set(key, this._match(query));
      return this.cache.get(key);
    }

    async _match(query) {
      // every term the query reads, fetched at once (one request per bucket, in parallel)
      await Promise.all(query.slots.flatMap((slots) => {
        const units = lookups(slots);
        return units.length === 1 ? [this.term(units[0][0])]
          : units.flatMap(([t]) => [this.term(t), this.bucket(isThree(t) ? "r" : "q", this.bucketOf(t, this.meta.buckets))]);
      }));
      const n = this.n, scores = new Float64Array(n);
      let matched = null, inName = null, inUnit = null, inHeader = null;
      const meet = (a, b) => (a === null ? b : new Set([...a].filter((x) => b.has(x))));
      for (const slots of query.slots) {
        const anywhere = new Set(), partName = new Set(), partUnit = new Set(), partHeader = new Set();
        for (let k = 0; k < this.fields.length; k++) {
          const hits = await this.runHits(k, slots);
          if (!hits.size) continue;
          this.score(scores, k, hits);
          const field = this.fields[k];
          for (const d of hits.keys()) {
            anywhere.add(d);
            if (field === "name") partName.add(d);
            if (field === "name" || field === "unit") partUnit.add(d);
            if (field !== "text") partHeader.add(d);
          }
        }
        matched = meet(matched, anywhere);
        inName = meet(inName, partName);
        inUnit = meet(inUnit, partUnit);
        inHeader = meet(inHeader, partHeader);
        if (!matched.size) break;
      }
      const tier = (d) => (inName.has(d) ? 0 : inUnit.has(d) ? 1 : 2);
      const ranked = [...matched].sort((a, b) => tier(a) - tier(b) || scores[b] - scores[a] || a - b);
      const units = this.units.filter((u) => query.parts.every((p, i) => matches(u.folded, query.slots[i], p)) ||
        (u.code && query.parts.length === 1 && query.parts[0] === u.code));
      return [maskOf(ranked), ranked, units, maskOf([...(inHeader || [])])];
    }

    score(scores, k, hits) {
      const df = hits.size;
      const idf = Math.log(1.0 + (this.n - df + 0.5) / (df + 0.5));
      const w = this.meta.boosts[k] * idf * (K1 + 1);
      const a = K1 * (1 - B), b = K1 * B / this.meta.average[k];
      const lengths = this.lengths[k];
      for (const [d, tf] of hits) scores[d] += w * tf / (tf + a + b * lengths[d]);
    }

    async stored(p) { return this.json(`d/${p}.json`); }

    async result(p, query, categories) {
      const d = await this.stored(p);
      addPairs(d.fold);                           // the pairs of its own characters
      const entry = {
        type: "project", id: d.id, title: d.title, url: d.url, year: d.year,
        unit: Object.assign({}, d.unit), annual_yuan: d.annual_yuan,
        snippets: snippets(d, query), indicators: matchedIndicators(d, query, categories),
      };
      // the amount as the server's page shows it (万元/亿元, exact yuan in its title): for
      // the page, not part of the /api/search document
      Object.defineProperty(entry, "amount_html", { value: d.amount_html, enumerable: false });
      return entry;
    }
  }

  // ── results (jixiao/search/results.py) ─────────────────────────────────────
  const FRAGMENT = 120, LEAD = 30;
  const escapeHtml = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

  function spans(text, query) {
    if (!text || query.empty) return [];
    let folded = fold(text);
    let found = [];
    query.parts.forEach((part, i) => { for (const s of findSpans(folded, query.slots[i], part)) found.push(s); });
    if (!found.length) return [];
    if (folded.length !== text.length) {
      const [, origin] = foldWithOffsets(text);
      found = found.map(([s, e]) => [origin[s], origin[e - 1] + 1]);
    }
    found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged = [];
    for (const [s, e] of found) {
      if (merged.length && s <= merged[merged.length - 1][1]) {
        const last = merged[merged.length - 1];
        last[1] = Math.max(e, last[1]);
      } else merged.push([s, e]);
    }
    return merged;
  }

  function highlight(text, query, fragment = false) {
    const found = spans(text, query);
    if (!found.length) return null;
    let start = 0, end = text.length;
    if (fragment && text.length > FRAGMENT) {
      start = Math.max(0, found[0][0] - LEAD);
      end = Math.min(text.length, start + FRAGMENT);
      start = Math.max(0, Math.min(start, end - FRAGMENT));
    }
    const out = [start > 0 ? "…" : ""];
    let pos = start;
    for (let [s, e] of found) {
      if (e <= start || s >= end) continue;
      s = Math.max(s, start); e = Math.min(e, end);
      out.push(escapeHtml(text.slice(pos, s)), `<mark>${escapeHtml(text.slice(s, e))}</mark>`);
      pos = e;
    }
    out.push(escapeHtml(text.slice(pos, end)), end < text.length ? "…" : "");
    return out.join("");
  }

  function snippets(doc, query) {
    const out = [];
    const add = (field, text, fragment = true) => {
      const html = highlight(text, query, fragment);
      if (html !== null) out.push({ field, html });
    };
    add("name", doc.title, false);
    add("unit", doc.unit.name, false);
    add("department", doc.department.published, false);
    add("nature", doc.nature, false);
    add("category", doc.category, false);
    add("goals.overall", doc.goals.overall);
    add("goals.annual", doc.goals.annual);
    for (const [title, text] of doc.sections) {
      const html = highlight(text, query, true) ?? highlight(title, query);
      if (html !== null) out.push({ field: `sections.${title}`, html });
    }
    return out;
  }

  function matchedIndicators(doc, query, categories) {
    if (query.empty) return [];
    const indicators = doc.indicators;
    const foldedAll = fold(indicators.flatMap((ind) => ind.slice(0, 3).filter((v) => v)).join(SEPARATOR));
    const parts = query.parts.map((p, i) => [p, query.slots[i]]).filter(([, slots]) => slots.every((s) => foldedAll.includes(s)));
    if (!parts.length) return [];
    const found = [];
    indicators.forEach(([name, description, target, category], n) => {
      if (categories.length && !categories.includes(category)) return;
      const folded = [name, description, target].map((v) => fold(v || ""));
      const here = parts.filter(([, slots]) => folded.some((f) => slots.every((s) => f.includes(s))));
      if (!here.length) return;
      const held = here.filter(([part, slots]) => folded.some((f) => f && findSpans(f, slots, part).length)).length;
      if (!held) return;
      const html = [name, description, target].filter((v) => v).map((v) => highlight(v, query) ?? escapeHtml(v)).join(" · ");
      found.push([-held, n, { name, target: target || null, html }]);
    });
    return found.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((f) => f[2]);
  }

  // ── parameters (jixiao/search/params.py) ───────────────────────────────────
  const DEFAULT_PAGE_SIZE = 20, MAX_PAGE_SIZE = 100, MAX_PAGE = 10000, MAX_QUERY = 200;
  const FACETS = ["year", "unit", "department", "category"];
  const SORTS = {
    relevance: "相关度", amount: "年度资金从多到少", amount_asc: "年度资金从少到多",
    name: "项目名称（拼音 A→Z）", name_desc: "项目名称（拼音 Z→A）", year: "年度从新到旧",
    year_asc: "年度从旧到新", unit: "实施单位（拼音 A→Z）", unit_desc: "实施单位（拼音 Z→A）",
  };
  const CATEGORY_CODES = ["input", "output", "cost", "benefit", "satisfaction", "other"];
  class ParamError extends Error {}
  const repr = (s) => "'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
  const PRINTABLE_NOT = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
  const PY_SPACE = new RegExp(`^[${SPACE}]$`, "u");

  function parseArgs(qs) {
    const args = {};
    for (const [k, v] of new URLSearchParams(qs)) (args[k] = args[k] || []).push(v);
    return args;
  }
  function one(args, name) {
    const values = args[name] || [];
    if (values.length > 1) throw new ParamError(`参数 ${name} 只能出现一次`);
    return values.length ? values[0] : null;
  }
  function int(args, name, dflt, low, high) {
    const raw = one(args, name);
    if (raw === null || raw === "") return dflt;
    const text = raw.trim();
    if (!/^[0-9]{1,6}$/.test(text)) throw new ParamError(`参数 ${name} 应为 ${low}–${high} 之间的整数，收到的是 ${repr(chars(raw).slice(0, 20).join(""))}`);
    const value = Number(text);
    if (value < low || value > high) throw new ParamError(`参数 ${name} 应为 ${low}–${high} 之间的整数，收到的是 ${value}`);
    return value;
  }
  function values(args, name, check) {
    const out = [];
    for (const raw of args[name] || []) {
      const value = raw.trim();
      if (!value) continue;
      if (!check(value)) throw new ParamError(`参数 ${name} 的值 ${repr(chars(value).slice(0, 40).join(""))} 无效`);
      if (!out.includes(value)) out.push(value);
    }
    if (out.length > 50) throw new ParamError(`参数 ${name} 的值过多`);
    return out;
  }
  function amountParam(args, name) {
    const raw = (one(args, name) || "").trim().replace(/,/g, "").replace(/，/g, "");
    if (!raw) return "";
    if (!/^[0-9]{1,12}(?:\.[0-9]{1,6})?$/.test(raw)) throw new ParamError(`参数 ${name} 应为以万元计的金额，如 50 或 12.5，收到的是 ${repr(chars(raw).slice(0, 20).join(""))}`);
    return normalizeDecimal(raw);
  }
  function normalizeDecimal(raw) {          // format(Decimal(raw).normalize(), "f")
    let [whole, frac = ""] = raw.split(".");
    frac = frac.replace(/0+$/, "");
    whole = whole.replace(/^0+(?=.)/, "");
    if (!frac && /^0+$/.test(whole)) return "0";
    return frac ? `${whole}.${frac}` : whole;
  }
  function decimalCents(text, scale = 8) {  // exact decimal → BigInt in 10^-scale units
    const neg = text.startsWith("-");
    const [whole, frac = ""] = text.replace("-", "").split(".");
    const v = BigInt(whole || "0") * 10n ** BigInt(scale) + BigInt((frac + "0".repeat(scale)).slice(0, scale) || "0");
    return neg ? -v : v;
  }

  function parseParams(args) {
    let q = one(args, "q") || "";
    q = Array.from(q, (ch) => (!PRINTABLE_NOT.test(ch) || ch === " " || PY_SPACE.test(ch) ? ch : " ")).join("");
    q = q.replace(new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "gu"), "");
    const qlen = chars(q).length;
    if (qlen > MAX_QUERY) throw new ParamError(`查询过长（${qlen} 个字符）；请缩短到 ${MAX_QUERY} 个字符以内`);
    const sort = one(args, "sort") || "relevance";
    if (!(sort in SORTS)) throw new ParamError("参数 sort 应为 " + Object.entries(SORTS).map(([k, v]) => `${k}（${v}）`).join("、"));
    const bounds = ["amount_min", "amount_max"].map((n) => amountParam(args, n));
    if (bounds[0] && bounds[1] && decimalCents(bounds[0]) > decimalCents(bounds[1])) throw new ParamError(`年度资金下限 ${bounds[0]} 万元大于上限 ${bounds[1]} 万元`);
    return makeParams({
      q,
      year: values(args, "year", (v) => /^[0-9]{4}$/.test(v)),
      unit: values(args, "unit", (v) => /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(v) && v.length <= 80),
      department: values(args, "department", (v) => /^d-[0-9a-f]{8}$/.test(v)),
      category: values(args, "category", (v) => CATEGORY_CODES.includes(v)),
      page: int(args, "page", 1, 1, MAX_PAGE),
      page_size: int(args, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
      sort, amount_min: bounds[0], amount_max: bounds[1],
    });
  }
  function makeParams(p) {
    const params = Object.assign({ q: "", year: [], unit: [], department: [], category: [], page: 1,
      page_size: DEFAULT_PAGE_SIZE, sort: "relevance", amount_min: "", amount_max: "" }, p);
    params.filters = {};
    for (const f of FACETS) if (params[f].length) params.filters[f] = params[f];
    params.with = (changes) => makeParams(Object.assign({}, params, changes));
    params.toggled = (facet, value) => params.with({
      [facet]: params[facet].includes(value) ? params[facet].filter((v) => v !== value) : [...params[facet], value], page: 1 });
    params.queryString = () => queryString(params);
    return params;
  }
  function quotePlus(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%20/g, "+");
  }
  function queryString(p) {
    const pairs = [];
    if (p.q) pairs.push(["q", p.q]);
    for (const f of FACETS) for (const v of p[f]) pairs.push([f, v]);
    if (p.amount_min) pairs.push(["amount_min", p.amount_min]);
    if (p.amount_max) pairs.push(["amount_max", p.amount_max]);
    if (p.sort !== "relevance") pairs.push(["sort", p.sort]);
    if (p.page_size !== DEFAULT_PAGE_SIZE) pairs.push(["page_size", String(p.page_size)]);
    if (p.page !== 1) pairs.push(["page", String(p.page)]);
    return pairs.map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`).join("&");
  }

  // ── the answer (jixiao/search/engine.py) ───────────────────────────────────
  const GAP = 4, MIN_RELAXED = 3, MAX_UNIT_RESULTS = 3, MAX_SYNONYM_QUERIES = 8;
  const CJK_ONLY = /^[\u3400-\u9fff]+$/;
  const REGION = /^(?:[^\s省市]{2,7}?(?:省|自治区))?(?:[^\s市]{1,4}?市)?(?:[^\s区县市]{1,4}?[区县](?=.{4,}))?/u;

  async function answer(gen, params) {
    const [query, tiers] = await matched(gen, params);
    if (query.empty) return shape(gen, params, query, tiers, params.q.trim() ? { notice: "ignored" } : {});
    const extra = { also_searched: tiers.alsoSearched };
    if (tiers.suggestion) extra.suggestion = { q: tiers.suggestion, url: "/search/?" + params.with({ q: tiers.suggestion, page: 1 }).queryString() };
    return shape(gen, params, query, tiers, extra);
  }

  async function matched(gen, params) {
    await gen.folding(params.q);
    const query = parseQuery(params.q);
    if (query.empty) return [query, params.q.trim() ? new Tiers() : Tiers.everything(gen)];
    return [query, await cachedTiers(gen, query)];
  }

  class Tiers {
    constructor() {
      this.tiers = []; this.matched = 0n; this.order = []; this.units = [];
      this.alsoSearched = []; this.suggestion = null; this.ranked = true;
    }
    static everything(gen) {
      const t = new Tiers();
      t.matched = gen.all; t.ranked = false;
      return t;
    }
    add(mask, ranked, label, query) {
      const fresh = mask & ~this.matched;
      if (!fresh) return;
      if (!this.matched && fresh === mask) this.order = ranked.slice();
      else {
        const keep = has(fresh);
        for (const p of ranked) if (keep(p)) this.order.push(p);
      }
      this.tiers.push([fresh, label, query]);
      this.matched |= fresh;
    }
    label(p) {
      const bit = 1n << BigInt(p);
      for (const [mask, label, query] of this.tiers) if (mask & bit) return [label, query];
      return ["exact", null];
    }
  }

  function within(mask, ranked, keep) {
    if (keep === null) return [mask, ranked];
    mask &= keep;
    const inMask = has(mask);
    return [mask, ranked.filter((p) => inMask(p))];
  }

  async function matchTiers(gen, query) {
    const t = new Tiers();
    t.nbytes = gen.nbytes;
    const addUnits = (units, label) => { for (const u of units) t.units.push([u, label]); };
    const also = (words) => { for (const w of words) if (!t.alsoSearched.includes(w)) t.alsoSearched.push(w); };
    const [mask, ranked, units] = await gen.match(query);
    t.add(mask, ranked, "exact", query);
    addUnits(units, "exact");

    const weak = [];
    for (const [alt, words] of synonymQueries(query, gen.synonyms)) {
      const [m, r, u, header] = await gen.match(alt);
      if (m & header & ~t.matched) {
        t.add(m & header, r, "synonym", alt);
        also(words);
      }
      if (m & ~header) weak.push([m & ~header, r, alt, words]);
      addUnits(u, "synonym");
    }

    const named = namedYear(query);
    let rest = query, inYear = null;
    if (named !== null && gen.masks.year.get(named[0])) {
      rest = named[1]; inYear = gen.masks.year.get(named[0]);
      const [m, r] = rest.empty ? [inYear, bitsOf(inYear)] : (await gen.match(rest)).slice(0, 2);
      t.add(...within(m, r, inYear), "year", rest);
    }

    const plain = plainWords(rest);
    if (plain !== null) {
      const [m, r, u] = await gen.match(plain);
      t.add(...within(m, r, inYear), "words", plain);
      addUnits(u, "words");
    }
    const base = plain || rest;

    if (!base.empty) {
      const [m, r, abbreviated] = await relaxed(gen, base);
      t.add(...within(m, r, inYear), "relaxed", base);
      addUnits(abbreviated, "relaxed");
    }

    if (!t.matched) for (const [m, r, alt, words] of weak) { t.add(m, r, "synonym", alt); also(words); }
    if (!t.matched) {
      const s = base.empty ? null : await suggest(gen, base);
      if (s !== null) {
        const [alt, text] = s;
        t.suggestion = text;
        const [m, r, u] = await gen.match(alt);
        t.add(...within(m, r, inYear), "suggestion", alt);
        addUnits(u, "suggestion");
      }
    }
    return t;
  }

  async function cachedTiers(gen, query) {
    gen.tierCache = gen.tierCache || new Map();
    if (!gen.tierCache.has(query.key)) gen.tierCache.set(query.key, matchTiers(gen, query));
    return gen.tierCache.get(query.key);
  }

  // a year the query names
  const YEAR_PART = /^((?:19|20)\d\d)(?:年度?)?$/, YEAR_LEAD = /^((?:19|20)\d\d)年度?(.+)$/su;
  function namedYear(query) {
    for (let k = 0; k < query.parts.length; k++) {
      const part = query.parts[k];
      let m = YEAR_PART.exec(part), rest = m ? [] : null;
      if (m === null) {
        m = YEAR_LEAD.exec(part);
        if (m === null) continue;
        rest = [m[2]];
      }
      return [m[1], parseQuery([...query.parts.slice(0, k), ...rest, ...query.parts.slice(k + 1)].join(" "))];
    }
    return null;
  }

  // the words that matter
  const FILLERS = ["请问", "查询", "查找", "搜索", "查看", "查一下", "我想知道", "想知道", "有哪些",
    "有什么", "是什么", "哪些", "什么", "多少钱", "多少", "怎么样", "关于", "有关",
    "相关", "的", "了", "吗", "呢", "项目", "情况", "方面"].sort((a, b) => b.length - a.length);
  const clen = (s) => chars(s).length;
  function plainPart(part) {
    for (;;) {
      let cut = false;
      for (const f of FILLERS) {
        if (part.startsWith(f) && clen(part) - clen(f) >= 2) { part = part.slice(f.length); cut = true; break; }
        if (part.endsWith(f) && clen(part) - clen(f) >= 2) { part = part.slice(0, part.length - f.length); cut = true; break; }
      }
      if (!cut) return part;
    }
  }
  function plainParts(part) {
    part = plainPart(part);
    const pieces = part.split("的");
    if (pieces.length > 1 && pieces.every((p) => clen(p) >= 2)) return pieces.map(plainPart);
    return [part];
  }
  function plainWords(query) {
    const parts = query.parts.flatMap(plainParts).filter((p) => !FILLERS.includes(p));
    const plain = parseQuery(parts.join(" "));
    return plain.empty || plain.key === query.key ? null : plain;
  }

  function synonymQueries(query, groups) {
    const out = [];
    query.parts.forEach((part, k) => {
      for (const group of groups) {
        const word = group.find((w) => w && part.includes(w));
        if (word === undefined) continue;
        for (const other of group) {
          if (other === word || part.includes(other)) continue;
          const parts = query.parts.slice();
          parts[k] = part.split(word).join(other);
          const alt = parseQuery(parts.join(" "));
          if (!alt.empty && alt.key !== query.key) out.push([alt, [other]]);
        }
      }
    });
    return out.slice(0, MAX_SYNONYM_QUERIES);
  }

  // relaxed: characters in order
  function singlePart(query) {
    if (query.parts.length !== 1) return null;
    const part = query.parts[0];
    return CJK_ONLY.test(part) && clen(part) >= MIN_RELAXED ? part : null;
  }
  const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  function patterns(part) {
    const cs = chars(part), window = `[^\\n]{0,${GAP}}?`;
    const out = [new RegExp(cs.map(reEscape).join(window), "gu")];
    for (let cut = 2; cut < cs.length - 1; cut++) {
      out.push(new RegExp(reEscape(cs.slice(0, cut).join("")) + "[^\\n]*?" + reEscape(cs.slice(cut).join("")), "gu"));
    }
    return out;
  }

  async function relaxed(gen, query) {
    if (query.parts.length === 1) return relaxedPart(gen, query);
    let mask = gen.all, first = null, units = [], loose = false;
    for (const part of query.parts) {
      const single = parseQuery(part);
      const exact = (await gen.match(single))[0];
      const [m, order, u] = await relaxedPart(gen, single);
      if (m & ~exact) {
        loose = true;
        if (first === null) first = order;
      }
      units = units.concat(u);
      mask &= exact | m;
      if (!mask) return [0n, [], []];
    }
    if (!loose) return [0n, [], []];
    const inMask = has(mask);
    const head = (first || []).filter((p) => inMask(p));
    const placed = new Set(head);
    return [mask, head.concat(bitsOf(mask).filter((p) => !placed.has(p))), units];
  }

  async function relaxedPart(gen, query) {
    let [m, r] = await relaxedProjects(gen, query);
    const abbreviated = await abbreviatedUnits(gen, query);
    for (const u of abbreviated) {
      const um = gen.masks.unit.get(u.id) || 0n;
      const inM = has(m);
      r = r.concat(bitsOf(um).filter((p) => !inM(p)));
      m |= um;
    }
    return [m, r, abbreviated];
  }

  // The projects whose name holds every character of the part, and each one's name with
  // only those characters kept (the others stand in as U+E000): the patterns match the
  // characters of the part and "any character", so they match there exactly as in the
  // name, and no request fetches all the names.
  async function namesHolding(gen, part) {
    const cs = [...new Set(chars(part))];
    const where = await Promise.all(cs.map((c) => gen.nameChar(c)));
    const rarest = where.reduce((a, b) => (b.size < a.size ? b : a));
    const out = new Map();
    for (const p of rarest.keys()) {
      if (!where.every((w) => w.has(p))) continue;
      const name = [];
      where.forEach((w, i) => { for (const o of w.get(p)) name[o] = cs[i]; });
      out.set(p, Array.from(name, (c) => c || "\ue000").join(""));
    }
    return out;
  }

  async function relaxedProjects(gen, query) {
    const part = singlePart(query);
    if (part === null) return [0n, []];
    const names = await namesHolding(gen, part);
    const found = new Map();
    patterns(part).forEach((pattern, rank) => {
      for (const [p, name] of names) {
        pattern.lastIndex = 0;
        let m;
        while ((m = pattern.exec(name)) !== null) {
          const key = rank * 1000 + clen(m[0]);
          if (key < (found.has(p) ? found.get(p) : 1 << 30)) found.set(p, key);
        }
      }
    });
    const order = [...found.keys()].sort((a, b) => found.get(a) - found.get(b) || a - b);
    return [maskOf(order), order];
  }

  async function abbreviatedUnits(gen, query) {
    const part = singlePart(query);
    if (part === null) return [];
    const pattern = new RegExp(chars(part).map(reEscape).join(".*?"), "u");
    const hits = [];
    for (const u of gen.units) {
      if (u.folded.includes(part)) continue;
      const short = u.folded.replace(REGION, "");
      const m = pattern.exec(short);
      if (m && clen(m[0]) <= 4 * clen(part)) hits.push([clen(m[0]), clen(u.name), u.id, u]);
    }
    hits.sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
    return hits.slice(0, MAX_UNIT_RESULTS).map((h) => h[3]);
  }

  // suggestions: homophones from the index's vocabulary
  async function derived(gen) {
    if (!gen._derived) {
      gen._derived = (async () => {
        // the table keeps the names' characters only (static_index._write_homophones): a
        // corrected word must be made of the names' pairs, no other character survives
        const [{ text: names }, table] = await Promise.all([gen.names(), gen.file("homophones.txt")]);
        const text = names + "\n" + gen.units.map((u) => u.folded).join("\n");
        const cs = chars(text), vocabulary = new Set();
        for (let i = 0; i + 1 < cs.length; i++) vocabulary.add(cs[i] + cs[i + 1]);
        const byReading = new Map();
        for (const line of decoder.decode(table).split("\n")) {
          if (!line) continue;
          const space = line.indexOf(" ");
          byReading.set(line.slice(0, space), line.slice(space + 1).replace("|", ""));
        }
        const readings = (ch) => gen.readingMap.get(ch) || [];
        return { text, vocabulary, byReading, readings, sameSound: (r) => byReading.get(r) || "" };
      })();
    }
    return gen._derived;
  }

  const PINYIN = /^[a-z]{4,24}$/, MAX_SPELLINGS = 200;
  function syllables(d, text, limit = 8) {
    const ways = Array.from({ length: text.length + 1 }, () => []);
    ways[0] = [[]];
    for (let end = 1; end <= text.length; end++) {
      for (let start = Math.max(0, end - 6); start < end; start++) {
        if (ways[start].length && d.byReading.has(text.slice(start, end))) {
          ways[end] = ways[end].concat(ways[start].map((w) => w.concat([text.slice(start, end)])).slice(0, limit));
        }
      }
    }
    return ways[text.length].map((w, i) => [w, i]).sort((a, b) => a[0].length - b[0].length || a[1] - b[1]).slice(0, limit).map((x) => x[0]);
  }
  const count = (text, w) => text.split(w).length - 1;
  function spelled(d, parts) {
    let words = chars(d.sameSound(parts[0]));
    for (const reading of parts.slice(1)) {
      const cs = chars(d.sameSound(reading));
      const next = [];
      outer: for (const w of words) {
        const last = chars(w).pop();
        for (const c of cs) {
          if (d.vocabulary.has(last + c)) {
            next.push(w + c);
            if (next.length >= MAX_SPELLINGS) break outer;
          }
        }
      }
      words = next;
      if (!words.length) return [];
    }
    return words.map((w, i) => [count(d.text, w), i, w]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 5).map((x) => x[2]);
  }

  async function fromPinyin(gen, query) {
    const d = await derived(gen), parts = query.parts;
    const spelledParts = new Map();
    parts.forEach((p, k) => {
      if (PINYIN.test(p)) spelledParts.set(k, syllables(d, p).filter((way) => way.length >= 2).flatMap((way) => spelled(d, way)));
    });
    const typed = [...spelledParts.keys()].filter((k) => spelledParts.get(k).length);
    const chosen = new Map();
    const text = (words) => parts.map((p, k) => (words.has(k) ? words.get(k) : spelledParts.has(k) ? null : p)).filter((x) => x !== null).join(" ");
    for (const k of typed) {
      let best = null;
      const candidates = spelledParts.get(k).slice(0, 5);
      for (let i = 0; i < candidates.length; i++) {
        const w = candidates[i];
        const n = popcount((await gen.match(parseQuery(text(new Map([...chosen, [k, w]])))))[0]);
        if (best === null || n > best[0] || (n === best[0] && -i > best[1])) best = [n, -i, w];
      }
      if (best[0]) chosen.set(k, best[2]);
    }
    return chosen.size ? [parseQuery(text(chosen)), text(chosen)] : null;
  }

  async function suggest(gen, query) {
    const typed = await fromPinyin(gen, query);
    if (typed !== null) return typed;
    const d = await derived(gen);
    await gen.readingsOf(query.parts.join(""));
    let best = null;
    for (let k = 0; k < query.parts.length; k++) {
      const part = query.parts[k];
      if (!CJK_ONLY.test(part) || clen(part) < 2) continue;
      const cs = chars(part);
      for (let i = 0; i < cs.length; i++) {
        for (const reading of d.readings(cs[i])) {
          for (const other of d.sameSound(reading)) {
            if (other === cs[i]) continue;
            const word = cs.slice(); word[i] = other;
            let ok = true;
            for (let j = Math.max(0, i - 1); j < Math.min(word.length - 1, i + 1); j++) if (!d.vocabulary.has(word[j] + word[j + 1])) ok = false;
            if (!ok) continue;
            const parts = query.parts.slice();
            parts[k] = word.join("");
            const text = parts.join(" "), alt = parseQuery(text);
            const n = popcount((await gen.match(alt))[0]);
            if (n && (best === null || n > best[0])) best = [n, alt, text];
          }
        }
      }
    }
    return best === null ? null : [best[1], best[2]];
  }

  // facets, filters, paging
  async function filterMasks(gen, params) {
    const wanted = {};
    for (const f in params.filters) {
      let m = 0n;
      for (const v of params.filters[f]) m |= gen.masks[f].get(v) || 0n;
      wanted[f] = m;
    }
    if (params.amount_min || params.amount_max) {
      wanted.amount = await amountMask(gen, params.amount_min ? decimalCents(params.amount_min) * 10000n : null,
        params.amount_max ? decimalCents(params.amount_max) * 10000n : null);
    }
    return wanted;
  }

  async function amountMask(gen, low, high) {
    const sorts = await gen.sorts();
    if (!gen._amounts) gen._amounts = sorts.yuan.map((y) => decimalCents(y));   // largest first
    const a = gen._amounts;
    let start = 0, end = a.length;
    if (high !== null) { while (start < a.length && a[start] > high) start++; }
    if (low !== null) { end = start; while (end < a.length && a[end] >= low) end++; }
    return maskOf(sorts.amount.slice(start, end));
  }

  async function shape(gen, params, query, tiers, extra) {
    const wanted = await filterMasks(gen, params);
    const matchedMask = tiers.matched;
    let kept = matchedMask;
    for (const f in wanted) kept &= wanted[f];
    const labels = gen.meta.category_labels, order = gen.meta.categories;
    const facets = {}, more = {}, limit = gen.meta.facet_limit;
    for (const facet of FACETS) {
      let base = matchedMask;
      for (const f in wanted) if (f !== facet) base &= wanted[f];
      const counts = new Map();
      if (base) for (const [v, m] of gen.masks[facet]) { const c = popcount(base & m); if (c) counts.set(v, c); }
      const label = new Map();
      for (const v of counts.keys()) label.set(v, facet === "category" ? (labels[v] || v) : facet in gen.labels ? gen.labels[facet][v] : v);
      const selected = params[facet];
      for (const v of selected) {
        if (!counts.has(v)) counts.set(v, 0);
        if (!label.has(v)) label.set(v, facet === "category" ? (labels[v] || v) : v);
      }
      let keys = [...counts.keys()];
      const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
      if (facet === "year") keys.sort((a, b) => cmp(b, a));
      else if (facet === "category") keys.sort((a, b) => ((order.includes(a) ? order.indexOf(a) : 99) - (order.includes(b) ? order.indexOf(b) : 99)) || cmp(a, b));
      else keys.sort((a, b) => counts.get(b) - counts.get(a) || cmp(label.get(a), label.get(b)) || cmp(a, b));
      const entries = keys.map((v) => ({ value: v, label: label.get(v), count: counts.get(v), selected: selected.includes(v) }));
      facets[facet] = entries.slice(0, limit).concat(entries.slice(limit).filter((e) => e.selected));
      if (entries.length > facets[facet].length) more[facet] = entries.length - facets[facet].length;
    }
    const total = popcount(kept);
    const first = (params.page - 1) * params.page_size;
    const take = Math.min(params.page_size, Math.max(0, total - first));
    const page = await pageOf(gen, params, kept, tiers.ranked ? tiers.order : null, first, take);
    const results = [];
    if (params.page === 1 && !query.empty) results.push(...unitResults(gen, tiers.units, wanted));
    const entries = await Promise.all(page.map((p) => {
      const [label, q] = tiers.ranked ? tiers.label(p) : ["exact", query];
      return gen.result(p, q || query, params.category).then((entry) => (query.empty ? entry : Object.assign(entry, { match: label })));
    }));
    results.push(...entries);
    const doc = { query: params.q, total, page: params.page, page_size: params.page_size, results, facets };
    if (Object.keys(more).length) doc.facets_more = more;
    if (!query.empty) {
      const counts = {};
      for (const [mask, label] of tiers.tiers) {
        const n = popcount(mask & kept);
        if (n) counts[label] = (counts[label] || 0) + n;
      }
      doc.matches = counts;
    }
    for (const k in extra) {
      const v = extra[k];
      if (v && !(Array.isArray(v) && !v.length) && !(typeof v === "object" && !Array.isArray(v) && !Object.keys(v).length)) doc[k] = v;
    }
    return doc;
  }

  async function pageOf(gen, params, kept, ranked, first, take) {
    if (take <= 0) return [];
    let order, backwards;
    if (params.sort === "relevance" && ranked !== null) { order = ranked; backwards = false; }
    else if (params.sort === "relevance" || params.sort === "year") return bitsOf(kept).slice(first, first + take);
    else {
      const [field, direction] = params.sort.split("_");
      if (field === "year") {
        order = Array.from({ length: gen.n }, (_, p) => p).sort((a, b) => (gen.yearOf[a] < gen.yearOf[b] ? -1 : gen.yearOf[a] > gen.yearOf[b] ? 1 : a - b));
      } else order = (await gen.sorts())[field];
      backwards = field === "amount" ? direction === "asc" : direction === "desc";
    }
    const n = order.length;
    if (kept === gen.all) {
      if (backwards) return order.slice(Math.max(0, n - first - take), n - first).reverse();
      return order.slice(first, first + take);
    }
    const inKept = has(kept);
    const out = [];
    let seen = 0;
    for (let i = 0; i < n; i++) {
      const p = order[backwards ? n - 1 - i : i];
      if (inKept(p)) {
        if (seen >= first) {
          out.push(p);
          if (out.length === take) break;
        }
        seen++;
      }
    }
    return out;
  }

  function unitResults(gen, unitHits, wanted) {
    const seen = new Set(), found = [];
    let keep = gen.all;
    for (const f in wanted) keep &= wanted[f];
    const filtered = Object.keys(wanted).length > 0;
    for (const [u, label] of unitHits) {
      if (seen.has(u.id)) continue;
      seen.add(u.id);
      if (filtered && !((gen.masks.unit.get(u.id) || 0n) & keep)) continue;
      found.push([u, label]);
    }
    const exact = found.filter((x) => x[1] === "exact");
    if (exact.length > MAX_UNIT_RESULTS) return [];
    exact.sort((a, b) => clen(a[0].name) - clen(b[0].name) || (a[0].id < b[0].id ? -1 : a[0].id > b[0].id ? 1 : 0));
    return exact.concat(found.filter((x) => x[1] !== "exact")).slice(0, MAX_UNIT_RESULTS)
      .map(([u, label]) => ({ type: "unit", id: u.id, title: u.name, url: u.url, match: label }));
  }

  // ── opening ────────────────────────────────────────────────────────────────
  async function open(load, base = "/search/index/") {
    const pointer = await load(base + "current.json");
    if (!pointer) return null;
    const folder = base + JSON.parse(decoder.decode(pointer)).generation + "/";
    const [metaData, columns] = await Promise.all(["meta.json", "projects.bin"].map(
      (name) => load(folder + name).then((data) => data && inflate(data))));
    if (!metaData || !columns) return null;
    const meta = JSON.parse(decoder.decode(metaData));
    T2S.clear();
    FOLDED.clear();
    const gen = new Generation(load, folder, meta, columns, new TextEncoder());
    return {
      generation: gen,
      search: async (qs) => answer(gen, parseParams(typeof qs === "string" ? parseArgs(qs) : qs)),
    };
  }

  const api = { open, parseArgs, parseParams, makeParams, ParamError, parseQuery, fold, SORTS, FACETS, DEFAULT_PAGE_SIZE };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.JixiaoSearch = api;
})(typeof self !== "undefined" ? self : this);
