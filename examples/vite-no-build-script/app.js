document.getElementById("content").dataset.ready = "yes";
