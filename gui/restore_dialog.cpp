#include "gui/restore_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "common/paths.h"

namespace recall::gui {
namespace {

QString action_words(const PreviewLine& l) {
  if (l.action == "write") return RestoreDialog::tr("Will be restored");
  if (l.action == "replace") return RestoreDialog::tr("Will replace the file there");
  if (l.action == "rename") return RestoreDialog::tr("Exists: restored copy saved as %1").arg(l.to);
  if (l.action == "skip") return RestoreDialog::tr("Exists: will be skipped");
  if (l.action == "merge") return RestoreDialog::tr("Folder exists: restored into it");
  if (l.action == "ask") return RestoreDialog::tr("Exists: you will be asked");
  return l.action;
}

QString action_icon(const QString& a) {
  if (a == "write" || a == "merge") return "restore";
  if (a == "skip") return "unavailable";
  return "warning";
}

}  // namespace

RestoreDialog::RestoreDialog(std::string socket, std::vector<RestoreItem> items, const QString& last_folder,
                             QWidget* parent)
    : QDialog(parent), socket_(std::move(socket)), items_(std::move(items)) {
  setObjectName("restoreDialog");
  setWindowTitle(tr("Restore"));
  setWindowIcon(icon("restore"));
  resize(720, 520);
  auto* layout = new QVBoxLayout(this);

  QString what;
  if (items_.size() == 1) {
    const auto& it = items_[0];
    auto name = QString::fromStdString(escape_for_display(it.path.substr(it.path.rfind('/') + 1)));
    what =
        tr("<b>%1</b> from <b>%2</b>, as it was in the backup of %3")
            .arg(name.toHtmlEscaped(), QString::fromStdString(it.host).toHtmlEscaped(), display_time(it.at));
  } else {
    what = tr("<b>%1 items</b> you selected").arg(items_.size());
  }
  auto* title = new QLabel(tr("Restore %1").arg(what));
  title->setWordWrap(true);
  layout->addWidget(title);

  auto* form = new QFormLayout;
  auto* where = new QVBoxLayout;
  to_original_ = new QRadioButton(tr("Where it was"));
  to_original_->setObjectName("toOriginal");
  if (items_.size() == 1) {
    auto p = items_[0].path;
    auto slash = p.rfind('/');
    to_original_->setText(
        tr("Where it was (%1)").arg(QString::fromStdString(slash ? p.substr(0, slash) : "/")));
  }
  to_folder_ = new QRadioButton(tr("Into this folder:"));
  to_folder_->setObjectName("toFolder");
  folder_ = new QLineEdit(last_folder);
  folder_->setObjectName("folder");
  auto* choose = new QPushButton(tr("Choose…"));
  auto* folder_row = new QHBoxLayout;
  folder_row->addWidget(to_folder_);
  folder_row->addWidget(folder_, 1);
  folder_row->addWidget(choose);
  where->addWidget(to_original_);
  where->addLayout(folder_row);
  to_original_->setChecked(true);
  form->addRow(tr("Put it:"), where);

  conflict_ = new QComboBox;
  conflict_->setObjectName("onConflict");
  conflict_->addItem(tr("Ask me each time"), int(cli::OnConflict::Ask));
  conflict_->addItem(tr("Keep both (the restored copy gets a new name)"), int(cli::OnConflict::Rename));
  conflict_->addItem(tr("Replace the existing file"), int(cli::OnConflict::Overwrite));
  conflict_->addItem(tr("Skip it (keep the existing file)"), int(cli::OnConflict::Skip));
  form->addRow(tr("If a file is already there:"), conflict_);
  layout->addLayout(form);

  cost_ = new QLabel(tr("Working out what this restore involves…"));
  cost_->setObjectName("costHint");
  QFont f = cost_->font();
  f.setBold(true);
  f.setPointSizeF(f.pointSizeF() * 1.1);
  cost_->setFont(f);
  layout->addWidget(cost_);
  problem_ = new QLabel;
  problem_->setObjectName("problem");
  problem_->setWordWrap(true);
  problem_->setStyleSheet("color: #b03020;");
  problem_->hide();
  layout->addWidget(problem_);

  preview_ = new QTreeWidget;
  preview_->setObjectName("preview");
  preview_->setRootIsDecorated(false);
  preview_->setHeaderLabels({tr("What will happen"), tr("File")});
  preview_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  layout->addWidget(preview_, 1);

  auto* buttons = new QDialogButtonBox;
  restore_ = buttons->addButton(tr("Restore"), QDialogButtonBox::AcceptRole);
  restore_->setObjectName("startRestore");
  restore_->setIcon(icon("restore"));
  restore_->setDefault(true);
  restore_->setEnabled(false);
  buttons->addButton(QDialogButtonBox::Cancel);
  layout->addWidget(buttons);

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(300);
  connect(debounce_, &QTimer::timeout, this, &RestoreDialog::refresh_preview);
  auto changed = [this] {
    preview_ready_ = false;
    restore_->setEnabled(false);
    debounce_->start();
  };
  connect(to_original_, &QRadioButton::toggled, this, changed);
  connect(folder_, &QLineEdit::textChanged, this, [this, changed] {
    if (!to_folder_->isChecked()) to_folder_->setChecked(true);
    changed();
  });
  connect(conflict_, &QComboBox::currentIndexChanged, this, changed);
  connect(choose, &QPushButton::clicked, this, [this] {
    QString d = QFileDialog::getExistingDirectory(this, tr("Restore into"), folder_->text());
    if (!d.isEmpty()) folder_->setText(d);
  });
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    emit restoreRequested(request());
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  refresh_preview();
}

RestoreRequest RestoreDialog::request() const {
  RestoreRequest r;
  r.items = items_;
  r.to_original = to_original_->isChecked();
  r.folder = folder_->text().toStdString();
  r.on_conflict = static_cast<cli::OnConflict>(conflict_->currentData().toInt());
  return r;
}

void RestoreDialog::refresh_preview() {
  preview_task_ = std::make_unique<RestoreTask>(socket_, request(), /*dry_run=*/true);
  connect(preview_task_.get(), &RestoreTask::previewReady, this,
          [this, task = preview_task_.get()](const Preview& p) {
            // A preview of choices changed since is not shown: the next one is on its way.
            if (task == preview_task_.get() && !debounce_->isActive()) show_preview(p);
          });
  preview_task_->start();
}

void RestoreDialog::show_preview(const Preview& p) {
  preview_->clear();
  for (const auto& l : p.lines) {
    auto* item = new QTreeWidgetItem({action_words(l), l.path});
    item->setIcon(0, icon(action_icon(l.action)));
    preview_->addTopLevelItem(item);
  }
  cost_->setText(p.hint);
  QString problem = p.problem;
  if (!p.warnings.isEmpty()) problem += (problem.isEmpty() ? "" : "\n") + p.warnings.join("\n");
  problem_->setVisible(!problem.isEmpty());
  problem_->setText(problem);
  preview_ready_ = true;
  restore_->setEnabled(p.problem.isEmpty());
}

}  // namespace recall::gui
