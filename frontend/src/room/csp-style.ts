// Inline sizes and positions under the strict CSP (style-src 'self'): a `style`
// attribute is refused, the CSSOM is not. Lit's styleMap writes the attribute on its
// first render, so this sets each property through element.style instead.
import { noChange } from "lit";
import {
  Directive,
  directive,
  PartType,
  type AttributePart,
  type PartInfo,
} from "lit/directive.js";

class CspStyle extends Directive {
  constructor(part: PartInfo) {
    super(part);
    if (part.type !== PartType.ATTRIBUTE || part.name !== "style")
      throw new Error("cspStyle belongs in a style attribute");
  }

  render(styles: Readonly<Record<string, string>>): typeof noChange {
    void styles; // applied in update(), never as an attribute
    return noChange;
  }

  override update(part: AttributePart, [styles]: [Readonly<Record<string, string>>]) {
    const style = part.element.style;
    for (const [name, value] of Object.entries(styles)) style.setProperty(name, value);
    return noChange;
  }
}

/** `style=${cspStyle({ width: "10px" })}`: CSS property names, always the same keys. */
export const cspStyle = directive(CspStyle);
