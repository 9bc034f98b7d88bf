// Small enhancements only; every page works without JavaScript.
(() => {
  // what the form's [data-choice] field says: the chosen option's text, the typed value, or its label
  function choiceOf(form) {
    const field = form.querySelector("[data-choice]");
    if (!field) return "";
    if (field.dataset.choiceLabel) return field.dataset.choiceLabel;
    if (field.tagName === "SELECT") return field.selectedOptions.length ? field.selectedOptions[0].text : "";
    return field.value.trim() || field.dataset.choiceEmpty || "";
  }

  function confirmation(form) {
    const notify = form.querySelector('input[name="notify"]');
    const text = notify && notify.checked && form.dataset.confirmMail ? form.dataset.confirmMail : form.dataset.confirm;
    return text.split("{choice}").join(choiceOf(form));
  }

  function customerPicker(input) {
    const list = document.getElementById(input.dataset.customerPicker);
    const chosen = document.getElementById(input.getAttribute("aria-describedby"));
    let asked = "";
    let timer = null;

    function choose(item) {
      input.value = item.customer_number;
      input.dataset.choiceLabel = `${item.name} (${item.customer_number}, ${item.label})`;
      chosen.textContent = input.dataset.choiceLabel;
      list.hidden = true;
      list.replaceChildren();
      input.focus();
    }

    async function search() {
      const q = input.value.trim();
      if (q.length < 2 || q === asked) return;
      asked = q;
      const answer = await fetch(`/admin/customers/pick?q=${encodeURIComponent(q)}`, {credentials: "same-origin"});
      if (!answer.ok || q !== input.value.trim()) return;
      const {items} = await answer.json();
      list.replaceChildren(...items.map((item) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.setAttribute("role", "option");
        button.dataset.customerNumber = item.customer_number;
        button.textContent = `${item.name} · ${item.email} · ${item.customer_number} · ${item.label}`;
        button.addEventListener("click", () => choose(item));
        li.append(button);
        return li;
      }));
      list.hidden = items.length === 0;
    }

    input.addEventListener("input", () => {
      delete input.dataset.choiceLabel;
      chosen.textContent = "";
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" && !list.hidden) {
        event.preventDefault();
        const first = list.querySelector("button");
        if (first) first.focus();
      }
    });
    list.addEventListener("keydown", (event) => {
      const buttons = [...list.querySelectorAll("button")];
      const at = buttons.indexOf(document.activeElement);
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const next = at + (event.key === "ArrowDown" ? 1 : -1);
        if (next < 0) input.focus(); else if (buttons[next]) buttons[next].focus();
      } else if (event.key === "Escape") {
        list.hidden = true;
        input.focus();
      }
    });
  }

  // the order list: "/" goes to the search, arrow keys move from order to order, Enter opens it
  function keyboardList(table) {
    const links = () => [...table.querySelectorAll("a[data-row-link]")];
    table.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      const all = links();
      const at = all.indexOf(document.activeElement);
      if (at < 0) return;
      const next = all[at + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) {
        event.preventDefault();
        next.focus();
      }
    });
    document.addEventListener("keydown", (event) => {
      const typing = event.target.closest("input, select, textarea, [contenteditable]");
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "ArrowDown" || event.key === "j") {
        const first = links()[0];
        if (first && !table.contains(document.activeElement)) {
          event.preventDefault();
          first.focus();
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-confirm]").forEach((form) => {
      form.addEventListener("submit", (event) => {
        if (event.submitter && event.submitter.hasAttribute("data-skip-confirm")) return;  // an export changes nothing
        if (!window.confirm(confirmation(form))) event.preventDefault();
      });
    });
    // forms with several buttons: only the one that says so asks first (deleting a saved view)
    document.querySelectorAll("form[data-confirm-buttons]").forEach((form) => {
      form.addEventListener("submit", (event) => {
        const button = event.submitter;
        if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) event.preventDefault();
      });
    });
    document.querySelectorAll("[data-select-all]").forEach((box) => {
      box.addEventListener("change", () => {
        document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`).forEach((item) => {
          item.checked = box.checked;
        });
      });
    });
    // one filter menu open at a time: an open menu lies over its neighbours
    const menus = document.querySelectorAll("details.filter-menu");
    menus.forEach((menu) => {
      menu.addEventListener("toggle", () => {
        if (menu.open) menus.forEach((other) => { if (other !== menu) other.open = false; });
      });
    });
    document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
      select.addEventListener("change", () => select.form.submit());
    });
    document.querySelectorAll("input[data-customer-picker]").forEach(customerPicker);
    document.querySelectorAll("table[data-keyboard-list]").forEach(keyboardList);
    const search = document.querySelector("input[data-search-key]");
    if (search) {
      document.addEventListener("keydown", (event) => {
        if (event.key !== "/" || event.target.closest("input, select, textarea, [contenteditable]")) return;
        event.preventDefault();
        search.focus();
        search.select();
      });
    }
  });
})();
