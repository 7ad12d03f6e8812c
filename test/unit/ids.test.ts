import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../../lib/errors.js';
import { ID_PATTERN, validateId, type IdField } from '../../lib/validation/index.js';

/** Calls validateId and returns the ValidationError it throws. */
function rejection(field: IdField, value: unknown): ValidationError {
  try {
    validateId(field, value);
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
    return error;
  }
  assert.fail(`validateId accepted ${JSON.stringify(value)}`);
}

describe('validateId', () => {
  const good = ['u', 'user1', 'U1', '0', 'a.b', 'a_b', 'a-b', 'ws.2024-01_final', 'a..b', 'a.', `a${'b'.repeat(63)}`];
  for (const value of good) {
    test(`accepts ${JSON.stringify(value)}`, () => {
      assert.equal(validateId('user_id', value), value);
      assert.equal(validateId('workspace_id', value), value);
    });
  }

  const bad: Array<[string, unknown, string]> = [
    ['undefined', undefined, 'missing'],
    ['null', null, 'missing'],
    ['empty string', '', 'missing'],
    ['number', 42, 'not_string'],
    ['boolean', true, 'not_string'],
    ['array', ['u1'], 'not_string'],
    ['object', { id: 'u1' }, 'not_string'],
    ['65 characters', `a${'b'.repeat(64)}`, 'too_long'],
    ['dot', '.', 'dot_segment'],
    ['dot dot', '..', 'dot_segment'],
    ['triple dot', '...', 'bad_characters'],
    ['leading dot', '.hidden', 'bad_characters'],
    ['leading hyphen', '-rf', 'bad_characters'],
    ['leading underscore', '_x', 'bad_characters'],
    ['slash', 'u1/ws', 'bad_characters'],
    ['traversal through slash', 'u1/../../etc', 'bad_characters'],
    ['backslash', 'u1\\ws', 'bad_characters'],
    ['colon', 'u1:ws', 'bad_characters'],
    ['space', 'my user', 'bad_characters'],
    ['leading space', ' u1', 'bad_characters'],
    ['trailing space', 'u1 ', 'bad_characters'],
    ['no-break space', 'u\u00a01', 'bad_characters'],
    ['NUL', 'u1\u0000', 'control_characters'],
    ['newline with yaml after it', 'ws1\n    - /etc:/host-etc', 'control_characters'],
    ['carriage return', 'ws1\r', 'control_characters'],
    ['tab', 'u\t1', 'control_characters'],
    ['DEL', 'u1\u007f', 'control_characters'],
    ['C1 control', 'u1\u0085', 'control_characters'],
    ['escape sequence', '\u001b[31mred', 'control_characters'],
    ['cyrillic a', 'us\u0435r', 'bad_characters'],
    ['cyrillic a first', '\u0430dmin', 'bad_characters'],
    ['fullwidth letters', '\uff55\uff53\uff45\uff52', 'bad_characters'],
    ['fullwidth solidus', 'u1\uff0fws', 'bad_characters'],
    ['zero-width space', 'u\u200b1', 'bad_characters'],
    ['right-to-left override', 'u1\u202egpj', 'bad_characters'],
    ['accented letter', 'müller', 'bad_characters'],
    ['shell metacharacters', 'u1;rm', 'bad_characters'],
    ['yaml anchor', '*ref', 'bad_characters'],
    ['dollar brace', '${HOME}', 'bad_characters'],
  ];
  for (const [name, value, reason] of bad) {
    test(`rejects ${name} as ${reason}`, () => {
      const userError = rejection('user_id', value);
      assert.equal(userError.code, 'INVALID_USER_ID');
      assert.equal(userError.details.field, 'user_id');
      assert.equal(userError.details.reason, reason);

      const workspaceError = rejection('workspace_id', value);
      assert.equal(workspaceError.code, 'INVALID_WORKSPACE_ID');
      assert.equal(workspaceError.details.field, 'workspace_id');
      assert.equal(workspaceError.details.reason, reason);
      assert.equal(workspaceError.status, 400);
    });
  }

  test('details never echo control characters', () => {
    const error = rejection('workspace_id', 'ws1\n  evil: true\u0000\u001b');
    const value = String(error.details.value);
    assert.doesNotMatch(value, /[\u0000-\u001f\u007f-\u009f]/);
    assert.match(value, /\\u000a/);
    assert.doesNotMatch(error.message, /[\u0000-\u001f]/);
  });

  test('details of a non-string carry its type only', () => {
    const error = rejection('user_id', { toString: () => 'x' });
    assert.equal(error.details.type, 'object');
    assert.equal(error.details.value, undefined);
  });

  test('details of an over-long id are cut', () => {
    const error = rejection('user_id', 'a'.repeat(10_000));
    assert.equal(error.details.length, 10_000);
    assert.ok(String(error.details.value).length <= 201);
  });

  test('pattern is anchored and 64 characters max', () => {
    assert.equal(ID_PATTERN.test('a'.repeat(64)), true);
    assert.equal(ID_PATTERN.test('a'.repeat(65)), false);
    assert.equal(ID_PATTERN.test('ok\nbad'), false);
    assert.equal(ID_PATTERN.test('bad\nok'), false);
  });
});
