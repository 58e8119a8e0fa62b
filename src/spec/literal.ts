/**
 * Whether a line of the test-inputs file is a Python literal (what `ast.literal_eval` accepts):
 * numbers (with a sign), strings, bytes, True/False/None, and tuples, lists, sets and dicts of those.
 * Checked with the tree-sitter grammar, so a line is never executed on the host to validate it.
 */
import type { Node } from 'web-tree-sitter';
import { getParser } from './parser.js';

export function isPythonLiteral(text: string): boolean {
  const tree = getParser().parse(text);
  if (!tree) return false;
  try {
    const root = tree.rootNode;
    if (root.hasError || root.namedChildCount !== 1) return false;
    const statement = root.namedChild(0);
    if (statement?.type !== 'expression_statement' || statement.namedChildCount !== 1) return false;
    return isLiteralNode(statement.namedChild(0)!);
  } finally {
    tree.delete();
  }
}

function isLiteralNode(node: Node): boolean {
  switch (node.type) {
    case 'integer':
    case 'float':
    case 'true':
    case 'false':
    case 'none':
      return true;
    case 'string':
      // An f-string runs code; literal_eval refuses it.
      return !node.namedChildren.some((child) => child?.type === 'interpolation');
    case 'concatenated_string':
      return node.namedChildren.every((child) => child !== null && isLiteralNode(child));
    case 'unary_operator': {
      const operand = node.childForFieldName('argument');
      const operator = node.childForFieldName('operator')?.type;
      return (operator === '-' || operator === '+') && !!operand && isNumber(operand);
    }
    case 'binary_operator': {
      // literal_eval accepts complex numbers written as `1+2j`.
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      const operator = node.childForFieldName('operator')?.type;
      if (operator !== '+' && operator !== '-') return false;
      if (!left || !right || !isNumber(left)) return false;
      return (right.type === 'integer' || right.type === 'float') && /j$/i.test(right.text);
    }
    case 'parenthesized_expression':
    case 'tuple':
    case 'list':
    case 'set':
      return node.namedChildren.every(
        (child) => child !== null && (child.type === 'comment' || isLiteralNode(child)),
      );
    case 'dictionary':
      return node.namedChildren.every(
        (child) =>
          child !== null &&
          (child.type === 'comment' ||
            (child.type === 'pair' &&
              isLiteralNode(child.childForFieldName('key')!) &&
              isLiteralNode(child.childForFieldName('value')!))),
      );
    default:
      return false;
  }
}

function isNumber(node: Node): boolean {
  if (node.type === 'integer' || node.type === 'float') return true;
  if (node.type === 'unary_operator') {
    const operand = node.childForFieldName('argument');
    return !!operand && isNumber(operand);
  }
  return false;
}
