/**
 * The few XML documents Lago writes for libvirt (networks, domains), pretty-printed as
 * xmlbuilder2 printed them. Hand-written because every `start` writes them before its first
 * network, and loading xmlbuilder2 there cost 70 ms.
 */
export class XmlElement {
  private readonly attributes: [string, string][] = []
  private readonly children: (XmlElement | string)[] = []

  constructor(
    readonly name: string,
    private readonly parent?: XmlElement,
  ) {
    checkName(name)
  }

  /** A child element; with a namespace, `qname` is "prefix:local" and the prefix is declared on it unless an ancestor declared it. */
  ele(nameOrNamespace: string, qname?: string): XmlElement {
    const child = new XmlElement(qname ?? nameOrNamespace, this)
    if (qname !== undefined) {
      const declaration = `xmlns:${qname.split(':')[0]}`
      if (this.declared(declaration) !== nameOrNamespace) child.att(declaration, nameOrNamespace)
    }
    this.children.push(child)
    return child
  }

  private declared(declaration: string): string | undefined {
    return this.attributes.find(([name]) => name === declaration)?.[1] ?? this.parent?.declared(declaration)
  }

  att(name: string, value: string): this {
    checkName(name)
    this.attributes.push([name, value])
    return this
  }

  txt(text: string): this {
    this.children.push(text)
    return this
  }

  /** The whole document: declaration, then this element indented by two spaces a level. */
  end(): string {
    return `<?xml version="1.0"?>\n${this.render('')}`
  }

  private render(indent: string): string {
    const open = `${indent}<${this.name}${this.attributes.map(([name, value]) => ` ${name}="${escape(value, /[&<>"]/g)}"`).join('')}`
    if (this.children.length === 0) return `${open}/>`
    const text = (c: string) => escape(c, /[&<>]/g)
    if (this.children.every((c) => typeof c === 'string')) return `${open}>${this.children.map(text).join('')}</${this.name}>`
    const inner = this.children.map((c) => (typeof c === 'string' ? `${indent}  ${text(c)}` : c.render(`${indent}  `)))
    return `${open}>\n${inner.join('\n')}\n${indent}</${this.name}>`
  }
}

const ENTITIES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;'}

/** A value for a single- or double-quoted attribute, for XML edited in place rather than written here. */
export function escapeAttribute(value: string): string {
  return escape(value, /[&<>"']/g)
}

function escape(value: string, special: RegExp): string {
  return value.replace(special, (c) => ENTITIES[c])
}

function checkName(name: string): void {
  if (!/^[A-Za-z_][\w.:-]*$/.test(name)) throw new Error(`Invalid XML name: ${JSON.stringify(name)}`)
}

/** A document whose root element is `name`. */
export function xmlDocument(name: string): XmlElement {
  return new XmlElement(name)
}
