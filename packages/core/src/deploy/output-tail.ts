/** The last lines of a stream of output (for error messages), bounded in memory. */
export class OutputTail {
  private text_ = ''

  constructor(private readonly lines: number) {}

  push(chunk: Buffer | string): void {
    this.text_ = (this.text_ + chunk.toString()).slice(-16_384)
  }

  text(): string {
    return this.text_.replace(/\r/g, '').trimEnd().split('\n').slice(-this.lines).join('\n')
  }

  lastLine(): string {
    return this.text().split('\n').at(-1) ?? ''
  }
}
