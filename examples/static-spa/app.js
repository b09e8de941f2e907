// A client-side router: every path is rendered here, so the server answers index.html for /settings.
const pages = { "/": "Home", "/settings": "Settings" };

function render() {
  document.getElementById("root").textContent = pages[location.pathname] ?? "Not found";
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a");
  if (link && link.origin === location.origin) {
    event.preventDefault();
    history.pushState({}, "", link.pathname);
    render();
  }
});
window.addEventListener("popstate", render);
render();
