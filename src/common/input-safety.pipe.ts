import { type ArgumentMetadata, BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

/** Deeper JSON is refused before class-transformer walks it (it recurses, and overflowed the stack). */
export const MAX_INPUT_DEPTH = 32;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isText = (s: string) => !s.includes('\u0000') && !LONE_SURROGATE.test(s);

const problem = (message: string) =>
  new BadRequestException({ statusCode: 400, error: 'Bad Request', message: [message] });

/**
 * Runs before the ValidationPipe on every body, query and route parameter: refuses nesting deeper
 * than MAX_INPUT_DEPTH, and strings PostgreSQL cannot store or our validators cannot read — a NUL
 * character, or a lone UTF-16 surrogate (validator.js's isEmail threw URIError on one). The walk
 * is iterative, so no input can overflow the stack here either; the message names the field.
 */
@Injectable()
export class InputSafetyPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
    while (stack.length > 0) {
      const { value: node, path, depth } = stack.pop()!;
      const name = path === '' ? metadata.type : path;
      if (typeof node === 'string') {
        if (node.includes('\u0000')) throw problem(`${name} must not contain a NUL character`);
        if (LONE_SURROGATE.test(node)) {
          throw problem(`${name} must be valid Unicode text (it has a lone surrogate)`);
        }
      } else if (typeof node === 'object' && node !== null) {
        if (depth >= MAX_INPUT_DEPTH) {
          throw problem(`${metadata.type} is nested too deeply (at most ${MAX_INPUT_DEPTH} levels)`);
        }
        for (const [key, child] of Object.entries(node)) {
          if (!isText(key)) {
            throw problem(`${metadata.type} has a field name that is not valid Unicode text`);
          }
          const childPath = Array.isArray(node) ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
          stack.push({ value: child, path: childPath, depth: depth + 1 });
        }
      }
    }
    return value;
  }
}
