/**
 * A small strict XML parser for tests: enough of XML 1.0 to check that a document we wrote
 * (JUnit reports) is well formed and to walk its structure. Elements, attributes, text, the five
 * predefined entities and numeric character references, comments, CDATA, a declaration. Anything
 * else — a stray `<` or `&`, an unknown entity, mismatched or unclosed tags, duplicate attributes,
 * an unquoted value, characters XML cannot hold, text outside the root — throws.
 */

/** One element. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (its character data, entities resolved), children's not included. */
  text: string;
}

const NAME_START = /[A-Za-z_:]/;
const NAME_CHAR = /[A-Za-z0-9_:.-]/;
const ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

function allowedChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  fail(what: string): never {
    throw new SyntaxError(`XML: ${what} at offset ${this.pos}`);
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  expect(s: string): void {
    if (!this.startsWith(s)) this.fail(`expected '${s}'`);
    this.pos += s.length;
  }

  skipSpace(): void {
    while (this.pos < this.src.length && " \t\r\n".includes(this.src[this.pos])) this.pos++;
  }

  name(): string {
    const start = this.pos;
    if (!NAME_START.test(this.src[this.pos] ?? "")) this.fail("expected a name");
    while (this.pos < this.src.length && NAME_CHAR.test(this.src[this.pos])) this.pos++;
    return this.src.slice(start, this.pos);
  }

  /** Character data up to `stop` (exclusive), entities resolved; `<` is never allowed in it. */
  chars(stop: string): string {
    let out = "";
    while (!this.startsWith(stop)) {
      if (this.pos >= this.src.length) this.fail(`unterminated, expected '${stop}'`);
      const ch = String.fromCodePoint(this.src.codePointAt(this.pos)!);
      if (!allowedChar(ch.codePointAt(0)!)) this.fail("character not allowed in XML");
      if (ch === "<") this.fail("'<' in character data");
      if (ch === "&") {
        out += this.entity();
        continue;
      }
      out += ch;
      this.pos += ch.length;
    }
    return out;
  }

  entity(): string {
    const end = this.src.indexOf(";", this.pos);
    if (end < 0) this.fail("unterminated entity");
    const ref = this.src.slice(this.pos + 1, end);
    let value: string | undefined;
    if (/^#[0-9]+$/.test(ref)) value = String.fromCodePoint(Number(ref.slice(1)));
    else if (/^#x[0-9A-Fa-f]+$/.test(ref)) value = String.fromCodePoint(parseInt(ref.slice(2), 16));
    else value = ENTITIES[ref];
    if (value === undefined || !allowedChar(value.codePointAt(0)!)) {
      this.fail(`bad entity &${ref};`);
    }
    this.pos = end + 1;
    return value;
  }

  /** Comments, processing instructions and whitespace between markup. */
  misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.startsWith("<!--")) {
        const end = this.src.indexOf("-->", this.pos + 4);
        if (end < 0) this.fail("unterminated comment");
        this.pos = end + 3;
      } else if (this.startsWith("<?")) {
        const end = this.src.indexOf("?>", this.pos);
        if (end < 0) this.fail("unterminated declaration");
        this.pos = end + 2;
      } else return;
    }
  }

  element(): XmlElement {
    this.expect("<");
    const el: XmlElement = { name: this.name(), attributes: {}, children: [], text: "" };
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      if (this.startsWith("/>")) {
        this.pos += 2;
        return el;
      }
      if (this.startsWith(">")) {
        this.pos++;
        break;
      }
      if (this.pos === before) this.fail("expected whitespace before an attribute");
      const key = this.name();
      if (key in el.attributes) this.fail(`duplicate attribute '${key}'`);
      this.skipSpace();
      this.expect("=");
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail("unquoted attribute value");
      this.pos++;
      el.attributes[key] = this.chars(quote);
      this.pos++;
    }
    this.content(el);
    return el;
  }

  content(el: XmlElement): void {
    for (;;) {
      el.text += this.chars("<");
      if (this.startsWith("</")) {
        this.pos += 2;
        if (this.name() !== el.name) this.fail(`'</…>' does not close <${el.name}>`);
        this.skipSpace();
        this.expect(">");
        return;
      }
      if (this.startsWith("<![CDATA[")) {
        const end = this.src.indexOf("]]>", this.pos);
        if (end < 0) this.fail("unterminated CDATA");
        el.text += this.src.slice(this.pos + 9, end);
        this.pos = end + 3;
      } else if (this.startsWith("<!--") || this.startsWith("<?")) {
        this.misc();
      } else {
        el.children.push(this.element());
      }
    }
  }
}

/**
 * Parses a whole document into its root element.
 *
 * @throws {SyntaxError} when the text is not well-formed XML
 */
export function parseXml(text: string): XmlElement {
  const p = new Parser(text);
  p.misc();
  const root = p.element();
  p.misc();
  if (p.pos !== text.length) p.fail("content after the root element");
  return root;
}

/** The child elements of `el` named `name`. */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}
