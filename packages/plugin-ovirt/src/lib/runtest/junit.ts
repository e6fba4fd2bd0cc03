import {readFile} from 'node:fs/promises'

export interface TestCaseResult {
  name: string
  classname: string
  status: 'passed' | 'failed' | 'skipped'
  message?: string
  seconds: number
}

/** The test cases of a JUnit XML report (pytest's and mocha-junit-reporter's), in file order. */
export async function readJunit(file: string): Promise<TestCaseResult[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  if (!text) return []
  const {XMLParser} = await import('fast-xml-parser')
  const parser = new XMLParser({ignoreAttributes: false, attributeNamePrefix: '', htmlEntities: true, isArray: (name) => ['testsuite', 'testcase', 'failure', 'error'].includes(name)})
  const doc = parser.parse(text) as {testsuites?: {testsuite?: Suite[]}; testsuite?: Suite[]}
  const suites = doc.testsuites?.testsuite ?? doc.testsuite ?? []
  return suites.flatMap((suite) =>
    (suite.testcase ?? []).map((tc) => {
      const problem = tc.failure?.[0] ?? tc.error?.[0]
      return {
        name: tc.name,
        classname: tc.classname ?? '',
        status: problem ? 'failed' : tc.skipped !== undefined ? 'skipped' : 'passed',
        message: problem ? (typeof problem === 'string' ? problem : (problem.message ?? problem['#text'] ?? '')).split('\n')[0] : undefined,
        seconds: Number(tc.time ?? 0),
      } satisfies TestCaseResult
    }),
  )
}

interface Suite {
  testcase?: {name: string; classname?: string; time?: string; skipped?: unknown; failure?: Problem[]; error?: Problem[]}[]
}
type Problem = string | {message?: string; '#text'?: string}
