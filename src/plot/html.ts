/**
 * Small HTML helpers for self-contained reports: text escaping, number formatting, turning a
 * standalone SVG document (vega's output) into markup that can sit inline, many times, in one page,
 * and the Content-Security-Policy every report carries.
 *
 * Report safety (the rules sae-report.ts and text-dashboard.ts follow): every string that comes
 * from data or files (labels, tokens, paths, tensor names, config fields) goes through escapeHtml,
 * in element text and in double-quoted attribute values alike; nothing from data is written into a
 * <script> (except JSON with < > & escaped, as a data block), a <style>, an event-handler
 * attribute, or an href / src (those hold only `#id` links and data:image/png URIs made here).
 * The CSP meta (reportCspMeta) then forbids every network load and every script the page does
 * not name by hash, so a hole in the escaping would still run nothing and fetch nothing.
 *
 * Hand-written: string functions; a templating engine would be a dependency for nothing.
 */
import { createHash } from 'node:crypto';
import { NestlabComputationError } from '../errors.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '\u0000': '\uFFFD' };

/**
 * Escapes text for HTML element content and quoted attribute values (& < > " '). A NUL character,
 * which HTML cannot carry (the parser drops it from text and turns it into U+FFFD in attributes),
 * becomes U+FFFD everywhere.
 */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'\u0000]/g, (c) => ESCAPES[c]);
}

/** A number for a table cell: 4 significant digits, exponent form for very small/large magnitudes, "—" for NaN. */
export function formatNumber(v: number, digits = 4): string {
  if (Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

/** Tags whose content or loads would make an inlined chart active. */
const ACTIVE_TAGS = /^<\/?(script|foreignobject|iframe|object|embed|image|use|a|animate|set|style|link)\b/i;

/**
 * Makes a standalone SVG document embeddable inline: drops the XML prolog and the namespace
 * declarations (the HTML parser puts <svg> in the SVG namespace by itself, and the page then holds
 * no http URL at all), and prefixes every id (and its url(#id) / href="#id" references) with
 * `prefix`, because ids are global to the page and vega reuses names such as "clip1" per chart.
 *
 * Only the tags are rewritten, never the text between them (a data label such as `id="clip1"`
 * stays as written; vega escapes < > & in text and also " in attribute values, so a tag ends at
 * the first >). A NUL character becomes U+FFFD, as in escapeHtml. An SVG holding a script, a
 * foreign object, a link or image element, an event-handler attribute or an href that is not a
 * local #id is refused (vega draws none of these for our specs): the chart stays inert.
 */
export function inlineSvg(svg: string, prefix: string): string {
  let s = svg.replace(/^\s*<\?xml[^>]*>\s*/, '').replace(/\u0000/g, '\uFFFD');
  const tags = /<[^>]*>/g;
  s = s.replace(tags, (tag) => tag.replace(/\s+xmlns(:\w+)?="[^"]*"/g, ''));
  for (const m of s.matchAll(tags)) {
    const tag = m[0];
    const attributes = tag.replace(/"[^"]*"/g, '""');
    if (ACTIVE_TAGS.test(tag) || /\son\w+\s*=/i.test(attributes) || /\s(?:xlink:)?href="(?!#)/i.test(tag)) {
      throw new NestlabComputationError('plot.inlineSvg', `the SVG holds active content (${tag.slice(0, 80)}); a report inlines only inert charts`);
    }
  }
  const ids = new Set<string>();
  for (const m of s.matchAll(tags)) for (const id of m[0].matchAll(/\sid="([^"]+)"/g)) ids.add(id[1]);
  if (ids.size > 0) {
    s = s.replace(tags, (tag) =>
      tag
        .replace(/(\sid=")([^"]+)(")/g, (_m, a: string, id: string, b: string) => `${a}${prefix}${id}${b}`)
        .replace(/url\(#([^)]+)\)/g, (m, id: string) => (ids.has(id) ? `url(#${prefix}${id})` : m))
        .replace(/(href=")#([^"]+)(")/g, (m, a: string, id: string, b: string) => (ids.has(id) ? `${a}#${prefix}${id}${b}` : m)),
    );
  }
  return s;
}

/** The CSP hash source of an inline script: 'sha256-<base64 of the SHA-256 of its text>'. */
export function scriptHash(script: string): string {
  return `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`;
}

/**
 * The Content-Security-Policy of a report page: nothing from the network (default-src 'none'),
 * images from data: URIs only, inline style, no base URL and no form target; scripts only those
 * given here, allowed by their SHA-256 hash (no 'unsafe-inline'), and none when none is given.
 */
export function reportCsp(scripts: string[] = []): string {
  const directives = ["default-src 'none'", "style-src 'unsafe-inline'"];
  if (scripts.length > 0) directives.push(`script-src ${scripts.map(scriptHash).join(' ')}`);
  directives.push('img-src data:', "base-uri 'none'", "form-action 'none'");
  return directives.join('; ');
}

/** The CSP as a <meta http-equiv> tag, to sit in <head> before anything that could load (reportCsp). */
export function reportCspMeta(scripts: string[] = []): string {
  return `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(reportCsp(scripts))}">`;
}
