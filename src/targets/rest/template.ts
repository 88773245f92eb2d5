// Request templates of the REST connector: `{{path}}` placeholders in URL paths and JSON bodies, and JSON
// pointers (RFC 6901) to read ids and attributes out of answers.
import { TargetError } from '../connector.js';

export type TemplateVars = Record<string, unknown>;

const PLACEHOLDER = /\{\{\s*(.+?)\s*\}\}/g;
const WHOLE = /^\{\{\s*(.+?)\s*\}\}$/;

function missing(name: string, where: string): TargetError {
  return new TargetError({ kind: 'badRequest', target: '', message: `${where}: no value for {{${name}}}` });
}

/** A URL path with every placeholder URL-encoded; a missing value is an error (it would change the URL's meaning). */
export function renderPath(template: string, vars: TemplateVars, where: string): string {
  return template.replace(PLACEHOLDER, (_m, name: string) => {
    const value = vars[name];
    if (value === undefined || value === null) throw missing(name, where);
    return encodeURIComponent(String(value));
  });
}

/**
 * A JSON body: a string that is exactly one placeholder keeps the value's type; a placeholder inside text is
 * turned into text; a field whose whole-value placeholder has no value is left out.
 */
export function renderBody(template: unknown, vars: TemplateVars): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) return vars[whole[1]!] ?? undefined;
    return template.replace(PLACEHOLDER, (_m, name: string) => {
      const value = vars[name];
      return value === undefined || value === null ? '' : String(value);
    });
  }
  if (Array.isArray(template)) return template.map((t) => renderBody(t, vars)).filter((v) => v !== undefined);
  if (template && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template)) {
      const rendered = renderBody(value, vars);
      if (rendered !== undefined) out[key] = rendered;
    }
    return out;
  }
  return template;
}

/** RFC 6901 JSON pointer lookup; undefined when the pointer leads nowhere. `''` is the whole document. */
export function jsonPointer(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let current = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (current && typeof current === 'object') {
      current = (current as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return current;
}
