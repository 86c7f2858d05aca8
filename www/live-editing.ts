// www/live-editing.ts: live editing keeps your place. Open this page, type in
// the form, open "More", scroll down; then edit this file and save.
import { layout } from './_lib/layout.ts';

// Change this sentence and save: the page changes in place, nothing you did is lost.
const message = 'Edit this sentence in www/live-editing.ts and save.';

const posted = REQUEST_HANDLER.method === 'POST';

print(layout('Live editing keeps your place', html`
  <p class="live-message"><b>${message}</b></p>
  <ol>
    <li>Type in the form below, pick a size, tick the box, open <i>More</i>, click the counter, scroll down a little.</li>
    <li>Edit <code>www/live-editing.ts</code> (the sentence above, or add a paragraph) and save:
      the page updates in place: what you typed, the caret, the scroll position, the open
      <i>More</i> and the counter (JavaScript state) stay.</li>
    <li>Break it (delete a quote) and save: the error shows over the page, with the line and the code.
      Fix it and save: the overlay goes, the page comes back as you left it.</li>
    <li>Send the form, then edit the file again: the page that answered the form is not sent again;
      a note offers to load it with GET.</li>
  </ol>
  ${posted ? html`<p><b>The form was sent</b> (a POST) with: <code>${JSON.stringify(QUERY)}</code></p>` : ''}
  <form method="post">
    <label>Name <input name="name" placeholder="type here"></label>
    <label>Notes <textarea name="notes" rows="3" cols="30"></textarea></label>
    <label>Size <select name="size"><option>small</option><option>medium</option><option>large</option></select></label>
    <label><input type="checkbox" name="subscribe"> keep me posted</label>
    <details><summary>More</summary><p>Opened by you; an edit keeps it open.</p></details>
    <button>Send</button>
  </form>
  <p><button type="button" id="live-counter">Click me</button> clicked <input id="live-clicks" readonly size="2" value="0"> times (a JavaScript variable)</p>
  ${['Scroll', 'Keep scrolling', 'Now edit and save'].map((title, i) => html`
  <h2>${title}</h2>
  <p style="min-height: 40vh">Section ${i + 1}: the scroll position is kept across an update in place.</p>`)}
  <script>
    // State that lives in the page: an update in place keeps this variable (a reload would reset it).
    var liveClicks = 0;
    document.getElementById('live-counter').addEventListener('click', function () {
      document.getElementById('live-clicks').value = String(++liveClicks);
    });
  </script>`));
