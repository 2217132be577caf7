/**
 * direct.xml as firewalld writes it: one element per entry
 * ({@linkcode renderElement}), the empty document, and the test for one. Kept
 * apart from the parser (direct_xml.ts, which loads sax) so that the dry-run
 * listing and removing an empty file need no parse.
 *
 * @module
 */
import type { DirectEntry } from "./direct_entries.ts";
import { joinArgs } from "./shell_words.ts";

/** What firewalld writes for a new direct.xml (firewall/core/io/direct.py `write`). */
export const EMPTY_DIRECT_XML = `<?xml version="1.0" encoding="utf-8"?>\n<direct>\n</direct>\n`;

/**
 * Whether `text` is an empty direct config as firewalld or this tool write
 * one: an optional XML declaration and a `<direct>` without attributes,
 * children, comments or text. Such a file means the same to firewalld as no
 * file, so removal deletes it instead of leaving it behind; anything an
 * admin wrote into it (a comment, an attribute) keeps it.
 *
 * @example
 * ```ts
 * import { EMPTY_DIRECT_XML, isEmptyDirectXml } from "./direct_xml_render.ts";
 * if (!isEmptyDirectXml(EMPTY_DIRECT_XML) || isEmptyDirectXml("<direct><!-- x --></direct>")) {
 *   throw new Error();
 * }
 * ```
 */
export function isEmptyDirectXml(text: string): boolean {
  return /^\s*(<\?xml\s[^?]*\?>)?\s*<direct\s*(\/>|>\s*<\/direct\s*>)\s*$/.test(text);
}

/**
 * One entry as a direct.xml element, written like firewalld writes it:
 * arguments joined with shlex quoting, then XML-escaped.
 *
 * @example
 * ```ts
 * import { renderElement } from "./direct_xml_render.ts";
 * const s = renderElement({ kind: "rule", ipv: "ipv6", table: "nat", chain: "OUTPUT",
 *   priority: -1, args: ["-j", "A&B"] });
 * if (s !== `<rule ipv="ipv6" table="nat" chain="OUTPUT" priority="-1">-j 'A&amp;B'</rule>`) {
 *   throw new Error(s);
 * }
 * ```
 */
export function renderElement(entry: DirectEntry): string {
  switch (entry.kind) {
    case "chain":
      return `<chain ${attrs({ ipv: entry.ipv, table: entry.table, chain: entry.chain })}/>`;
    case "rule":
      return `<rule ${
        attrs({
          ipv: entry.ipv,
          table: entry.table,
          chain: entry.chain,
          priority: String(entry.priority),
        })
      }>${escapeText(joinArgs(entry.args))}</rule>`;
    case "passthrough":
      return `<passthrough ${attrs({ ipv: entry.ipv })}>${
        escapeText(joinArgs(entry.args))
      }</passthrough>`;
  }
}

function attrs(values: Record<string, string>): string {
  return Object.entries(values).map(([k, v]) => `${k}="${escapeAttribute(v)}"`).join(" ");
}

function escapeText(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function escapeAttribute(s: string): string {
  return escapeText(s).replaceAll('"', "&quot;").replaceAll("\n", "&#10;").replaceAll(
    "\t",
    "&#9;",
  );
}
