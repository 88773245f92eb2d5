// The syntax tree of an Entra mapping expression. Every node keeps its source span (UTF-16 offsets,
// end exclusive) so compile-time and runtime errors can point at the exact column.

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** `Name(arg, , arg)`: `name` is spelled as written; lookup is case-insensitive. */
export interface CallNode extends Span {
  readonly kind: 'call';
  readonly name: string;
  readonly args: readonly ExpressionNode[];
}

/** `[attributeName]`: any characters but `]`, case-sensitive. */
export interface AttributeNode extends Span {
  readonly kind: 'attribute';
  readonly name: string;
}

/** `"text"` with `\"` and `\\` unescaped; any other `\x` is kept as the two characters. */
export interface StringNode extends Span {
  readonly kind: 'string';
  readonly value: string;
}

/** `42`, `-10`, `42568.75`: kept as the text written, since Entra treats literals as strings. */
export interface NumberNode extends Span {
  readonly kind: 'number';
  readonly text: string;
}

/** VB hex literal `&HF7`. */
export interface HexNode extends Span {
  readonly kind: 'hex';
  readonly text: string;
  readonly value: number;
}

/** Bare constant such as `vbTextCompare` or `IgnoreObjectFlow`. */
export interface IdentifierNode extends Span {
  readonly kind: 'identifier';
  readonly name: string;
}

/** An argument left empty, as in `Switch([x], , "a", "b")`: an omitted optional parameter. */
export interface EmptyNode extends Span {
  readonly kind: 'empty';
}

export type ComparisonOperator = '=' | '<>' | '>' | '>=' | '<' | '<=';

/** `left op right`, allowed wherever an expression is (in practice IIF conditions and CBool). */
export interface ComparisonNode extends Span {
  readonly kind: 'comparison';
  readonly operator: ComparisonOperator;
  readonly left: ExpressionNode;
  readonly right: ExpressionNode;
}

export type ExpressionNode =
  | CallNode
  | AttributeNode
  | StringNode
  | NumberNode
  | HexNode
  | IdentifierNode
  | EmptyNode
  | ComparisonNode;

/** Attribute names referenced anywhere in the tree, in order of first appearance. */
export function collectAttributes(node: ExpressionNode, out: string[] = []): string[] {
  switch (node.kind) {
    case 'attribute':
      if (!out.includes(node.name)) out.push(node.name);
      break;
    case 'call':
      for (const arg of node.args) collectAttributes(arg, out);
      break;
    case 'comparison':
      collectAttributes(node.left, out);
      collectAttributes(node.right, out);
      break;
    default:
      break;
  }
  return out;
}
