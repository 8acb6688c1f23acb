import t from 'tap'
import { parseDuration, toSeconds } from '../src/index.js'

t.test('parses every unit', async (t) => {
  t.equal(parseDuration('30s'), 30)
  t.equal(parseDuration('15m'), 900)
  t.equal(parseDuration('12h'), 43_200)
  t.equal(parseDuration('7d'), 604_800)
  t.equal(parseDuration('0s'), 0)
  t.equal(parseDuration(' 5s '), 5)
})

t.test('rejects anything else with a TypeError that names the input', async (t) => {
  for (const bad of [
    '',
    '15',
    'm',
    '-5s',
    '1.5m',
    '15 m',
    '15M',
    '1w',
    '5ms',
    '9999999999d',
    '1e3s',
  ]) {
    t.throws(() => parseDuration(bad), { name: 'TypeError', message: /invalid duration/ }, bad)
  }
  t.throws(() => parseDuration(42 as unknown as string), TypeError)
})

t.test('toSeconds takes seconds or a duration, and names the option', async (t) => {
  t.equal(toSeconds(90, 'ttl'), 90)
  t.equal(toSeconds('2m', 'ttl'), 120)
  t.throws(() => toSeconds(-1, 'ttl'), { message: /ttl/ })
  t.throws(() => toSeconds(1.5, 'ttl'), { message: /ttl/ })
  t.throws(() => toSeconds('soon', 'ttl'), { message: /^ttl: invalid duration/ })
})
