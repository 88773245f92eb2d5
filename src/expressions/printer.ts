// Prints a syntax tree back to expression text. parseExpression(printExpression(tree)) gives the same
// tree (positions aside), which the property tests check; it also shows a normalised form in --explain.
import type { ExpressionNode } from './ast.js';

export function printExpression(node: ExpressionNode): string {
  switch (node.kind) {
    case 'call':
      // Empty arguments print as nothing between commas: `Switch([x], , "a", "b")`.
      return `${node.name}(${node.args.map(printExpression).join(', ')})`;
    case 'attribute':
      return `[${node.name}]`;
    case 'string':
      return `"${escapeString(node.value)}"`;
    case 'number':
      return node.text;
    case 'hex':
      return node.text;
    case 'identifier':
      return node.name;
    case 'empty':
      return '';
    case 'comparison':
      return `${printExpression(node.left)} ${node.operator} ${printExpression(node.right)}`;
  }
}

/**
 * Backslashes are doubled and quotes escaped, so the parser reads back exactly `value`. A lone
 * backslash in `value` (from an unknown escape like `\+`) prints as `\\+`, which reads back as `\+`.
 */
function escapeString(value: string): string {
  return value.replace(/[\\"]/g, (ch) => `\\${ch}`);
}
