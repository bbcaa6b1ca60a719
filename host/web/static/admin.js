// Small progressive touches; every page works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (field && navigator.clipboard) navigator.clipboard.writeText(field.value);
});
