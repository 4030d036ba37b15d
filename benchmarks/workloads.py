"""Reply workloads, and the page script that times them, shared by the browser benchmarks.

The benchmark apps run in another process (a kernel, `nbchat serve`), so they embed
`markdown_tokens`' source (`inspect.getsource`) instead of importing it.
"""

import re


def markdown_tokens(target: int = 2000, sections: int = 10) -> list[str]:
    """About `target` tokens of markdown: `sections` × (heading, prose, lists, code block)."""
    sentence = ("This part explains the topic with `inline code`, a [link](https://example.com) "
                "and *emphasis*, the way a model's answer would. ")
    tokens: list[str] = []
    for repeat in range(1, 50):
        parts = [
            f"## Section {i}\n\n" + sentence * repeat + f"**Point {i}** ends here.\n\n"
            "- first point about the topic\n- second point, with **bold** text\n"
            "- third point\n  - a nested point\n\n1. step one\n2. step two\n3. step three\n\n"
            f"```python\ndef function_{i}(values: list[int]) -> int:\n    total = 0\n"
            "    for value in values:\n        if value % 2 == 0:\n            total += value * 2\n"
            "        else:\n            total -= value\n"
            f"    return total  # section {i}\n```\n\n"
            for i in range(1, sections + 1)
        ]
        tokens = re.findall(r"\S+|\s+", "".join(parts))
        if len(tokens) >= target:
            return tokens
    return tokens


# Evaluated on the chat's root element with [text, marker, codeBlocks, minLength]: press
# Send and resolve with the ms until the last message shows `marker`, is not streaming, is
# at least `minLength` characters long, and has `codeBlocks` highlighted code blocks.
SEND_AND_WAIT = """
async (root, [text, marker, codeBlocks, minLength]) => {
  const list = root.querySelector('.nbc-list');
  const box = root.querySelector('textarea[aria-label="Message"]');
  const done = () => {
    const articles = list.querySelectorAll(':scope > article');
    const a = articles[articles.length - 1];
    if (!a || a.classList.contains('nbc-streaming')) return false;
    if (a.dataset.type === 'user_message') return false;
    const body = a.querySelector('.nbc-msg-body');
    if (!body || !body.textContent.trimEnd().endsWith(marker)) return false;
    if (body.textContent.length < minLength) return false;
    if (!codeBlocks) return true;
    const codes = body.querySelectorAll('pre code');
    return codes.length === codeBlocks
      && [...codes].every(c => c.querySelector('span[class^="hljs-"]'));
  };
  return await new Promise((resolve, reject) => {
    const t0 = performance.now();
    const timer = setTimeout(() => {
      const last = [...list.querySelectorAll(':scope > article')].pop();
      reject(new Error(`no final "${marker}" within 120 s; last message: `
        + (last ? last.className + ' ' + last.textContent.slice(-300) : 'none')));
    }, 120000);
    const obs = new MutationObserver(() => {
      if (done()) { obs.disconnect(); clearTimeout(timer); resolve(performance.now() - t0); }
    });
    obs.observe(list, {subtree: true, childList: true, characterData: true, attributes: true,
                       attributeFilter: ['class']});
    box.value = text;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    root.querySelector('button.nbc-send').click();
  });
}
"""
