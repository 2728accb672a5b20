// The administration's small improvements; every page works without them (forms post as they are).
document.addEventListener("DOMContentLoaded", () => {
  // open a cycle: the chosen program's places and quotas unfold, the others fold
  document.querySelectorAll('#open-cycle input[name="program"]').forEach((radio) => {
    radio.addEventListener("change", () => {
      document.querySelectorAll("#open-cycle details.program-settings").forEach((d) => {
        d.open = d.id === "settings-" + radio.value;
      });
    });
  });
  // a secret or a hash to keep: selected when focused, copied by its button (shown only when
  // the browser lets a page copy)
  document.querySelectorAll("input.secret").forEach((input) => {
    input.addEventListener("focus", () => input.select());
    const button = document.querySelector('button[data-copy="' + input.id + '"]');
    if (button && navigator.clipboard) {
      button.hidden = false;
      button.addEventListener("click", () => {
        navigator.clipboard.writeText(input.value).then(() => {
          button.textContent = button.dataset.done;
        });
      });
    }
  });
});
